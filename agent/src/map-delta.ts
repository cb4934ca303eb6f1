// readMap with `remember`/`since`: reads the whole map, keeps it under a token, and answers a later read with
// only the entries that changed, appeared or went away since the read that token names; polling a big map
// then sends (and JSON-encodes) what moved, not everything. Talks to the kernel through map-read.ts.
import type { ReadMapParams, ReadMapResult } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { readMapRaw, type RawMapRead, type SessionMapResolver } from './map-read';

interface KeptRead {
  mapId: number;
  keySize: number;
  stride: number;
  count: number;
  keys: Buffer;
  values: Buffer;
  /** The whole buffers this read was read into (keys/values are views of them, or a copy for a map read in chunks). */
  storage: { keys: Buffer; values: Buffer };
  /** The storage of the read before this one, to read the next one into. */
  spare: { keys: Buffer; values: Buffer };
}

/** Reads kept for a later `since`; the oldest go first beyond this many bytes. */
const MAX_KEPT_BYTES = 256 * 1024 * 1024;
const kept = new Map<string, KeptRead>();
let keptBytes = 0;
let nextToken = 1;

const size = (read: KeptRead) => read.keys.length + read.values.length + read.storage.keys.length + read.storage.values.length + read.spare.keys.length + read.spare.values.length;

function keep(read: KeptRead): string {
  const token = `r${nextToken++}`;
  kept.set(token, read);
  keptBytes += size(read);
  for (const [old, value] of kept) {
    if (keptBytes <= MAX_KEPT_BYTES || old === token) break;
    kept.delete(old);
    keptBytes -= size(value);
  }
  return token;
}

function take(token: string): KeptRead | undefined {
  const read = kept.get(token);
  if (read) {
    kept.delete(token);
    keptBytes -= size(read);
  }
  return read;
}

/** Every chunk of the map into two buffers of its own (kept past this call, so no shared scratch). */
function readWhole(params: ReadMapParams, resolveSessionMap?: SessionMapResolver, into?: { keys: Buffer; values: Buffer }): { first: RawMapRead; keys: Buffer; values: Buffer; count: number } {
  const keyParts: Buffer[] = [];
  const valueParts: Buffer[] = [];
  let first: RawMapRead | undefined;
  let count = 0;
  let cursor: string | undefined;
  do {
    const chunk: RawMapRead = readMapRaw({ ...params, ...(cursor ? { cursor } : {}), withBtf: first ? false : params.withBtf }, resolveSessionMap, first ? {} : { ...(into ? { into } : {}) });
    first ??= chunk;
    keyParts.push(chunk.keys);
    valueParts.push(chunk.values);
    count += chunk.count;
    if (chunk.cursor && chunk.count === 0) throw new AgentError('readMap made no progress (an empty chunk that says more follow); read it again.', 'EMAPREAD');
    cursor = chunk.cursor;
  } while (cursor);
  const join = (parts: Buffer[]) => (parts.length === 1 ? parts[0] : Buffer.concat(parts));
  return { first, keys: join(keyParts), values: join(valueParts), count };
}

/** Whether entry i of `a` and entry j of `b` have the same key (word by word when aligned). */
function sameKey(a: Buffer, a32: Uint32Array | undefined, i: number, b: Buffer, b32: Uint32Array | undefined, j: number, ks: number): boolean {
  if (a32 && b32) {
    const w = ks >> 2;
    for (let x = 0; x < w; x++) if (a32[i * w + x] !== b32[j * w + x]) return false;
    return true;
  }
  return a.compare(b, j * ks, (j + 1) * ks, i * ks, (i + 1) * ks) === 0;
}

function words(buf: Buffer, ks: number): Uint32Array | undefined {
  return ks % 4 === 0 && buf.byteOffset % 4 === 0 ? new Uint32Array(buf.buffer, buf.byteOffset, buf.length >> 2) : undefined;
}

/**
 * Entry indexes of `now` that are new or changed since `before`, and indexes of `before` that are gone. Most
 * entries keep their place between reads (an update only reorders its hash bucket), so keys are compared place
 * by place and only the places that differ are matched by key.
 */
function diff(before: KeptRead, now: KeptRead): { changed: number[]; removed: number[] } {
  const { keySize: ks, stride } = now;
  const changed: number[] = [];
  const a32 = words(now.keys, ks);
  const b32 = words(before.keys, ks);
  const av = words(now.values, stride);
  const bv = words(before.values, stride);
  const vw = stride >> 2;
  /** Entry i of now against entry j of before, word by word when aligned (a native call per entry is slower). */
  const valueDiffers = (i: number, j: number): boolean => {
    if (av && bv) {
      for (let x = 0, p = i * vw, q = j * vw; x < vw; x++) if (av[p + x] !== bv[q + x]) return true;
      return false;
    }
    // buf.compare(target, targetStart, targetEnd, sourceStart, sourceEnd): entry j of before against entry i of now.
    return now.values.compare(before.values, j * stride, (j + 1) * stride, i * stride, (i + 1) * stride) !== 0;
  };
  const common = Math.min(now.count, before.count);
  const movedNow: number[] = [];
  const movedBefore: number[] = [];
  const moved = new Uint8Array(common);
  const BLOCK = 256;
  for (let start = 0; start < common; start += BLOCK) {
    const end = Math.min(common, start + BLOCK);
    let keysSame = now.keys.compare(before.keys, start * ks, end * ks, start * ks, end * ks) === 0;
    for (let i = start; i < end && !keysSame; i++) {
      if (sameKey(now.keys, a32, i, before.keys, b32, i, ks)) continue;
      keysSame = false;
      moved[i] = 1;
      movedNow.push(i);
      movedBefore.push(i);
    }
    if (keysSame && now.values.compare(before.values, start * stride, end * stride, start * stride, end * stride) === 0) continue;
    for (let i = start; i < end; i++) if (!moved[i] && valueDiffers(i, i)) changed.push(i);
  }
  for (let i = common; i < now.count; i++) movedNow.push(i);
  for (let j = common; j < before.count; j++) movedBefore.push(j);
  if (movedNow.length === 0 && movedBefore.length === 0) return { changed, removed: [] };
  const index = new Map<string, number>();
  for (const j of movedBefore) index.set(before.keys.toString('latin1', j * ks, (j + 1) * ks), j);
  const matched = new Set<number>();
  for (const i of movedNow) {
    const j = index.get(now.keys.toString('latin1', i * ks, (i + 1) * ks));
    if (j === undefined) {
      changed.push(i);
      continue;
    }
    matched.add(j);
    if (valueDiffers(i, j)) changed.push(i);
  }
  const removed = movedBefore.filter((j) => !matched.has(j));
  return { changed: changed.sort((x, y) => x - y), removed };
}

function gather(source: Buffer, size: number, indexes: number[]): Buffer {
  const out = Buffer.allocUnsafe(indexes.length * size);
  indexes.forEach((i, k) => source.copy(out, k * size, i * size, (i + 1) * size));
  return out;
}

export function readMapChanges(params: ReadMapParams, resolveSessionMap?: SessionMapResolver): ReadMapResult {
  if (params.cursor) throw new AgentError('readMap with `remember` or `since` reads the whole map: it takes no cursor.', 'EINVAL');
  // The read a token names is superseded by this one: its buffers become this read's (no fresh pages each poll).
  const before = params.since ? take(params.since) : undefined;
  const { first, keys, values, count } = readWhole(params, resolveSessionMap, before?.spare);
  const info = first.map;
  const stride = info.perCpu ? Math.ceil(info.valueSize / 8) * 8 * first.possibleCpus : info.valueSize;
  const now: KeptRead = { mapId: info.id, keySize: info.keySize, stride, count, keys, values, storage: first.storage, spare: before?.storage ?? { keys: Buffer.alloc(0), values: Buffer.alloc(0) } };
  const usable = before && before.mapId === now.mapId && before.keySize === now.keySize && before.stride === now.stride;
  const result: ReadMapResult = { map: info, possibleCpus: first.possibleCpus, count, keys: '', values: '', method: first.method };
  if (usable && before && params.since) {
    const { changed, removed } = diff(before, now);
    result.count = changed.length;
    result.keys = gather(keys, now.keySize, changed).toString('base64');
    result.values = gather(values, now.stride, changed).toString('base64');
    result.delta = { since: params.since, total: count, removedKeys: gather(before.keys, before.keySize, removed).toString('base64'), removedCount: removed.length };
  } else {
    result.keys = keys.toString('base64');
    result.values = values.toString('base64');
  }
  if (params.remember) result.snapshot = keep(now);
  if (first.btf) result.btf = first.btf.toString('base64');
  return result;
}
