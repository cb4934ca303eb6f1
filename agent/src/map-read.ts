// The `readMap` method: reads a map's raw keys and values (by session map, id or pinned path) in chunks,
// with bpf_map_lookup_batch where the kernel has it, else get_next_key + lookup; plus the map's BTF. Talks to libbpf.
import { endianness } from 'node:os';
import type { MapInfo, ReadMapParams, ReadMapResult } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { libbpf } from './ffi/libbpf';
import { libc } from './ffi/libc';
import { BPFFS_MISSING, bpffsMounted, underBpffs } from './bpffs-mount';
import { unreadableReason } from './map-readability';
import { readMapChanges } from './map-delta';

const ENOENT = 2;
const EPERM = 1;
const EACCES = 13;
const EINVAL = 22;
const ENOSPC = 28;
const ENOTSUPP = 524;
const EOPNOTSUPP = 95;

/** Entries per chunk when the caller does not say; the client asks again with the cursor for the rest. */
export const DEFAULT_CHUNK_ENTRIES = 262144;
/** Keys and values of one chunk take at most this many bytes, whatever maxEntries asks for. */
const MAX_CHUNK_BYTES = 128 * 1024 * 1024;

export const MAP_TYPE_NAMES = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array', 'stack_trace',
  'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps', 'hash_of_maps', 'devmap', 'sockmap',
  'cpumap', 'xskmap', 'sockhash', 'cgroup_storage', 'reuseport_sockarray', 'percpu_cgroup_storage', 'queue', 'stack',
  'sk_storage', 'devmap_hash', 'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter',
  'user_ringbuf', 'cgrp_storage', 'arena',
];
const PER_CPU_TYPES = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);

const LE = endianness() === 'LE';
const readU32 = (b: Buffer, off: number) => (LE ? b.readUInt32LE(off) : b.readUInt32BE(off));
const writeU32 = (b: Buffer, v: number, off: number) => (LE ? b.writeUInt32LE(v, off) : b.writeUInt32BE(v, off));

/** Reads bpf_map_info (struct layout of the kernel uapi, 88 bytes) for an open map fd. */
export function mapInfoOf(fd: number): MapInfo {
  const info = libbpf().objInfo(fd, 88);
  if (typeof info === 'number') throw new AgentError(`Cannot read the map's info (errno ${-info}).`, 'EMAPINFO');
  const typeCode = readU32(info, 0);
  const type = MAP_TYPE_NAMES[typeCode] ?? `type ${typeCode}`;
  const nameEnd = info.indexOf(0, 24);
  return {
    id: readU32(info, 4),
    name: info.toString('utf8', 24, nameEnd < 0 || nameEnd > 40 ? 40 : nameEnd),
    type,
    keySize: readU32(info, 8),
    valueSize: readU32(info, 12),
    maxEntries: readU32(info, 16),
    flags: readU32(info, 20),
    btfId: readU32(info, 64),
    btfKeyTypeId: readU32(info, 68),
    btfValueTypeId: readU32(info, 72),
    perCpu: PER_CPU_TYPES.has(type),
  };
}

/** Raw bytes of a BTF object of the kernel, by id (a map's or program's BTF). */
export function kernelBtfById(id: number): Buffer {
  const bpf = libbpf();
  const btf = bpf.btfLoadFromKernel(id);
  if (!btf) throw new AgentError(`Cannot load BTF object ${id} from the kernel (errno ${libc().errno()}).`, 'EBTF');
  try {
    const data = bpf.btfRawData(btf);
    if (!data) throw new AgentError(`BTF object ${id} has no raw data.`, 'EBTF');
    return data;
  } finally {
    bpf.btfFree(btf);
  }
}

/** Finds a session's map fd by name; provided by the session store (agent load/attach). */
export type SessionMapResolver = (session: string, map: string) => number | undefined;

function gone(what: string): AgentError {
  return new AgentError(`Map gone: ${what} no longer exists (the program that owned it was unloaded, or it was unpinned).`, 'EMAPGONE');
}

/** Opens the map the params name; returns the fd and whether the caller must close it. */
function openMap(params: ReadMapParams, resolveSessionMap?: SessionMapResolver): { fd: number; owned: boolean; what: string } {
  const b = libbpf();
  if (params.pinned !== undefined) {
    const fd = b.objGet(params.pinned);
    if (fd < 0) {
      const errno = -fd;
      if (underBpffs(params.pinned) && !bpffsMounted()) throw new AgentError(`Cannot open ${params.pinned}: ${BPFFS_MISSING}.`, 'ENOBPFFS');
      if (errno === ENOENT) throw new AgentError(`No pinned object at ${params.pinned} (nothing is pinned there, or it was unpinned).`, 'EMAPGONE');
      if (errno === EPERM || errno === EACCES) throw new AgentError(`Not allowed to open ${params.pinned} (errno ${errno}): run as root or with CAP_BPF.`, 'EPERM');
      throw new AgentError(`Cannot open ${params.pinned} (errno ${errno}).`, 'EMAPOPEN');
    }
    return { fd, owned: true, what: `pinned map ${params.pinned}` };
  }
  if (params.id !== undefined) {
    if (!Number.isInteger(params.id) || params.id <= 0) throw new AgentError(`Map id must be a positive integer, not ${params.id}.`, 'EINVAL');
    const fd = b.mapFdById(params.id);
    if (fd < 0) {
      if (-fd === ENOENT) throw gone(`map id ${params.id}`);
      if (-fd === EPERM || -fd === EACCES) throw new AgentError(`Not allowed to open map id ${params.id}: run as root or with CAP_BPF.`, 'EPERM');
      throw new AgentError(`Cannot open map id ${params.id} (errno ${-fd}).`, 'EMAPOPEN');
    }
    return { fd, owned: true, what: `map id ${params.id}` };
  }
  if (params.session !== undefined && params.map !== undefined) {
    if (!resolveSessionMap) throw new AgentError('This agent cannot look up session maps by name; pass the map id.', 'EINVAL');
    const fd = resolveSessionMap(params.session, params.map);
    if (fd === undefined) throw gone(`map "${params.map}" of session ${params.session}`);
    return { fd, owned: false, what: `map "${params.map}"` };
  }
  throw new AgentError('readMap needs a map: `pinned`, `id`, or `session` and `map`.', 'EINVAL');
}

/** Kernels before 5.6 and some map types have no batch lookup; remembered per map type. */
const batchUnsupported = new Set<string>();

/** The readMap result with raw bytes instead of base64 (for in-process readers such as `maps dump` as root). */
export interface RawMapRead {
  map: MapInfo;
  possibleCpus: number;
  count: number;
  keys: Buffer;
  values: Buffer;
  cursor?: string;
  method: 'batch' | 'iterate';
  btf?: Buffer;
  /** The whole buffers `keys` and `values` are views of: a read that no longer needs this one may read into them. */
  storage: { keys: Buffer; values: Buffer };
}

/**
 * `iterate` forces get_next_key + lookup (what kernels before 5.6 get), for tests of that path. `reuseBuffers`
 * reads into buffers kept between calls (no fresh pages to fault in at every poll); the result is then only
 * valid until the next call, which suits the RPC method that encodes it at once.
 */
export interface ReadOptions {
  method?: 'batch' | 'iterate';
  reuseBuffers?: boolean;
  /** Buffers to read into when large enough (the caller owns them; e.g. a read it no longer needs). */
  into?: { keys: Buffer; values: Buffer };
}

const scratch = { keys: Buffer.alloc(0), values: Buffer.alloc(0) };

interface EntryBuffers { keys: Buffer; values: Buffer }

function entryBuffers(keyBytes: number, valueBytes: number, reuse: boolean, into?: EntryBuffers): EntryBuffers {
  if (into && into.keys.length >= keyBytes && into.values.length >= valueBytes) {
    return { keys: into.keys.subarray(0, keyBytes), values: into.values.subarray(0, valueBytes) };
  }
  if (!reuse) return { keys: Buffer.allocUnsafe(keyBytes), values: Buffer.allocUnsafe(valueBytes) };
  if (scratch.keys.length < keyBytes) scratch.keys = Buffer.allocUnsafe(keyBytes);
  if (scratch.values.length < valueBytes) scratch.values = Buffer.allocUnsafe(valueBytes);
  return { keys: scratch.keys.subarray(0, keyBytes), values: scratch.values.subarray(0, valueBytes) };
}

export function readMapRaw(params: ReadMapParams, resolveSessionMap?: SessionMapResolver, options: ReadOptions = {}): RawMapRead {
  const { fd, owned, what } = openMap(params, resolveSessionMap);
  try {
    const info = mapInfoOf(fd);
    const refusal = unreadableReason(info.type);
    if (refusal) throw new AgentError(`Cannot read ${what} (${info.name}): ${refusal}.`, 'EMAPTYPE');
    const possibleCpus = libbpf().possibleCpus();
    const valueStride = info.perCpu ? Math.ceil(info.valueSize / 8) * 8 * possibleCpus : info.valueSize;
    const entryBytes = info.keySize + valueStride;
    const limit = Math.max(1, Math.min(params.maxEntries ?? DEFAULT_CHUNK_ENTRIES, info.maxEntries || 1, Math.floor(MAX_CHUNK_BYTES / Math.max(1, entryBytes))));
    const chunk = readChunk(fd, info, valueStride, limit, params.cursor, what, options.method === 'iterate', options.reuseBuffers === true, options.into);
    const result: RawMapRead = { map: info, possibleCpus, ...chunk };
    if (params.withBtf && info.btfId) result.btf = kernelBtfById(info.btfId);
    return result;
  } finally {
    if (owned) libc().close(fd);
  }
}

/**
 * The `readMap` method: one chunk of a map, bytes as base64 for the JSON-lines protocol, with the CPU the read
 * cost this process (kernel and JavaScript), by which views pace their polling.
 */
export function readMap(params: ReadMapParams, resolveSessionMap?: SessionMapResolver): ReadMapResult {
  const before = process.cpuUsage();
  const result = readMapEncoded(params, resolveSessionMap);
  const spent = process.cpuUsage(before);
  result.agentCpuMs = (spent.user + spent.system) / 1000;
  return result;
}

function readMapEncoded(params: ReadMapParams, resolveSessionMap?: SessionMapResolver): ReadMapResult {
  if (params.remember || params.since) return readMapChanges(params, resolveSessionMap);
  const raw = readMapRaw(params, resolveSessionMap, { reuseBuffers: true });
  const result: ReadMapResult = {
    map: raw.map,
    possibleCpus: raw.possibleCpus,
    count: raw.count,
    keys: raw.keys.toString('base64'),
    values: raw.values.toString('base64'),
    method: raw.method,
  };
  if (raw.cursor) result.cursor = raw.cursor;
  if (raw.btf) result.btf = raw.btf.toString('base64');
  return result;
}

/** `storage`: the whole buffers `keys` and `values` are views of (from their start), to read a later read into. */
interface Chunk { count: number; keys: Buffer; values: Buffer; cursor?: string; method: 'batch' | 'iterate'; storage: EntryBuffers }

function readChunk(fd: number, info: MapInfo, valueStride: number, limit: number, cursor: string | undefined, what: string, iterate: boolean, reuse: boolean, into?: { keys: Buffer; values: Buffer }): Chunk {
  const iterateCursor = cursor?.startsWith('k:');
  if (!iterate && !iterateCursor && !batchUnsupported.has(info.type)) {
    const batch = readBatch(fd, info, valueStride, limit, cursor, what, reuse, into);
    if (batch) return batch;
    if (cursor) throw new AgentError(`Batch read of ${what} failed on a later chunk; read it again from the start.`, 'EMAPREAD');
  }
  return readIterating(fd, info, valueStride, limit, cursor, what, reuse, into);
}

/** bpf_map_lookup_batch; undefined when this kernel or map type has no batch operations. */
function readBatch(fd: number, info: MapInfo, valueStride: number, limit: number, cursor: string | undefined, what: string, reuse: boolean, into?: { keys: Buffer; values: Buffer }): Chunk | undefined {
  const b = libbpf();
  const tokenSize = Math.max(info.keySize, 8);
  const inBatch = cursor ? Buffer.from(cursor.slice(2), 'base64') : null;
  if (inBatch && inBatch.length !== tokenSize) throw new AgentError('readMap: the cursor does not belong to this map.', 'EINVAL');
  const outBatch = Buffer.alloc(tokenSize);
  const storage = entryBuffers(limit * info.keySize, limit * valueStride, reuse, into);
  let { keys, values } = storage;
  const countBuf = Buffer.alloc(4);
  let total = 0;
  let token: Buffer | null = inBatch;
  for (;;) {
    const want = limit - total;
    writeU32(countBuf, want, 0);
    const rc = b.mapLookupBatch(fd, token, outBatch, keys.subarray(total * info.keySize), values.subarray(total * valueStride), countBuf);
    const got = readU32(countBuf, 0);
    if (rc < 0 && -rc !== ENOENT) {
      const errno = -rc;
      if (errno === ENOSPC && got === 0 && total === 0 && want < info.maxEntries) {
        // A hash bucket holds more entries than fit: the kernel needs a bigger buffer.
        return readBatch(fd, info, valueStride, Math.min(info.maxEntries, limit * 2), cursor, what, reuse, into);
      }
      if (errno === ENOSPC && total > 0) break;
      if (total === 0 && (errno === EINVAL || errno === ENOTSUPP || errno === EOPNOTSUPP)) {
        batchUnsupported.add(info.type);
        return undefined;
      }
      if (errno === ENOENT) throw gone(what);
      throw new AgentError(`Batch read of ${what} failed (errno ${errno}).`, 'EMAPREAD');
    }
    total += got;
    if (-rc !== ENOENT && got === 0) {
      // The kernel said "more follow" but gave nothing: stop rather than ask again for ever.
      if (total === 0) throw new AgentError(`Batch read of ${what} made no progress (no entries, no end); read it again.`, 'EMAPREAD');
      break;
    }
    if (-rc === ENOENT) {
      keys = keys.subarray(0, total * info.keySize);
      values = values.subarray(0, total * valueStride);
      return { count: total, keys, values, method: 'batch', storage };
    }
    token = Buffer.from(outBatch);
    if (total >= info.maxEntries) {
      // A map never holds more than max_entries: this was the last chunk.
      return { count: total, keys: keys.subarray(0, total * info.keySize), values: values.subarray(0, total * valueStride), method: 'batch', storage };
    }
    if (total >= limit) break;
  }
  return {
    count: total,
    keys: keys.subarray(0, total * info.keySize),
    values: values.subarray(0, total * valueStride),
    cursor: `b:${outBatch.toString('base64')}`,
    method: 'batch',
    storage,
  };
}

/** get_next_key + lookup, for kernels or map types without batch operations. */
function readIterating(fd: number, info: MapInfo, valueStride: number, limit: number, cursor: string | undefined, what: string, reuse: boolean, into?: { keys: Buffer; values: Buffer }): Chunk {
  const b = libbpf();
  const storage = entryBuffers(limit * info.keySize, limit * valueStride, reuse, into);
  const { keys, values } = storage;
  let prev: Buffer | null = cursor ? Buffer.from(cursor.slice(2), 'base64') : null;
  if (prev && prev.length !== info.keySize) throw new AgentError('readMap: the cursor does not belong to this map.', 'EINVAL');
  let count = 0;
  while (count < limit) {
    const next = keys.subarray(count * info.keySize, (count + 1) * info.keySize);
    const rc = b.mapGetNextKey(fd, prev, next);
    if (rc < 0) {
      if (-rc === ENOENT) return { count, keys: keys.subarray(0, count * info.keySize), values: values.subarray(0, count * valueStride), method: 'iterate', storage };
      throw new AgentError(`Reading the keys of ${what} failed (errno ${-rc}).`, 'EMAPREAD');
    }
    const lrc = b.mapLookup(fd, next, values.subarray(count * valueStride, (count + 1) * valueStride));
    prev = next;
    if (lrc < 0) {
      if (-lrc === ENOENT) continue; // deleted between get_next_key and lookup
      throw new AgentError(`Looking up an entry of ${what} failed (errno ${-lrc}).`, 'EMAPREAD');
    }
    count++;
  }
  if (count >= info.maxEntries) return { count, keys, values, method: 'iterate', storage };
  const last = keys.subarray((count - 1) * info.keySize, count * info.keySize);
  return { count, keys, values, cursor: `k:${Buffer.from(last).toString('base64')}`, method: 'iterate', storage };
}
