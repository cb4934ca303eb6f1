// Reads a whole map chunk by chunk (readMap with a cursor) from an agent, or from an in-process reader,
// with its BTF parsed once per BTF id; used by `maps dump` and the live-view panels. Talks to the agent.
import type { MapInfo, ReadMapParams } from '../../protocol/agent-rpc';
import type { AgentClient } from '../targets/agent-client';
import { parseBtf, type Btf } from '../btf/btf-types';
import { valueStride, type MapLayout } from '../btf/value-decoder';

/** Which map to read: a session's map by name, any map by id, or a pinned path. */
export type MapSelector = Pick<ReadMapParams, 'session' | 'map' | 'id' | 'pinned'>;

/** One chunk of a map with raw bytes. */
export interface RawMapChunk {
  map: MapInfo;
  possibleCpus: number;
  count: number;
  keys: Uint8Array;
  values: Uint8Array;
  cursor?: string;
  btf?: Uint8Array;
}

/** Where chunks come from: the agent over RPC, or the agent's reader in this process. */
export type MapChunkSource = (params: ReadMapParams) => Promise<RawMapChunk> | RawMapChunk;

function decodeBase64(text: string): Uint8Array {
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Chunks from an agent connection (base64 over JSON lines). */
export function agentChunkSource(client: AgentClient, timeoutMs?: number): MapChunkSource {
  return async (params) => {
    const r = await client.request('readMap', params, timeoutMs ? { timeoutMs } : {});
    const chunk: RawMapChunk = { map: r.map, possibleCpus: r.possibleCpus, count: r.count, keys: decodeBase64(r.keys), values: decodeBase64(r.values) };
    if (r.cursor) chunk.cursor = r.cursor;
    if (r.btf) chunk.btf = decodeBase64(r.btf);
    return chunk;
  };
}

/** Parsed BTF objects by kernel BTF id, so each crosses the wire once per connection. */
export type BtfCache = Map<number, { btf: Btf; raw: Uint8Array }>;

export interface MapTyping {
  layout: MapLayout;
  btf?: Btf;
  rawBtf?: Uint8Array;
}

/** Reads every chunk of a map in order; `onChunk` gets each as it arrives (nothing is kept between chunks). */
export async function forEachMapChunk(
  source: MapChunkSource,
  selector: MapSelector,
  onChunk: (chunk: RawMapChunk, typing: MapTyping) => void | Promise<void>,
  options: { chunkEntries?: number; btfCache?: BtfCache; withBtf?: boolean } = {},
): Promise<{ info: MapInfo; total: number; typing: MapTyping }> {
  const cache = options.btfCache ?? new Map();
  let cursor: string | undefined;
  let typing: MapTyping | undefined;
  let total = 0;
  let info: MapInfo | undefined;
  do {
    const params: ReadMapParams = { ...selector, ...(options.chunkEntries ? { maxEntries: options.chunkEntries } : {}) };
    if (cursor) params.cursor = cursor;
    if (!typing && options.withBtf !== false) params.withBtf = true;
    const chunk = await source(params);
    info = chunk.map;
    if (!typing) typing = typingFor(chunk, cache);
    total += chunk.count;
    await onChunk(chunk, typing);
    if (chunk.cursor !== undefined && (chunk.count === 0 || chunk.cursor === cursor)) {
      throw new Error(`Reading map ${info.name || info.id} made no progress (an empty chunk or the same cursor again); read it again.`);
    }
    cursor = chunk.cursor;
  } while (cursor);
  return { info, total, typing: typing as MapTyping };
}

function typingFor(chunk: RawMapChunk, cache: BtfCache): MapTyping {
  const info = chunk.map;
  let entry = info.btfId ? cache.get(info.btfId) : undefined;
  if (!entry && chunk.btf) {
    entry = { btf: parseBtf(chunk.btf), raw: chunk.btf };
    cache.set(info.btfId, entry);
  }
  const layout: MapLayout = {
    keySize: info.keySize, valueSize: info.valueSize, keyTypeId: info.btfKeyTypeId, valueTypeId: info.btfValueTypeId,
    perCpu: info.perCpu, possibleCpus: chunk.possibleCpus,
  };
  return { layout, ...(entry ? { btf: entry.btf, rawBtf: entry.raw } : {}) };
}

/** A whole map in two flat buffers (keys, values), for views that keep raw bytes and decode what they show. */
export interface MapSnapshot {
  info: MapInfo;
  layout: MapLayout;
  count: number;
  valueStride: number;
  keys: Uint8Array;
  values: Uint8Array;
  rawBtf?: Uint8Array;
}

/** `withBtf: false` skips asking for the BTF (a poller that already has it). */
export async function readMapSnapshot(source: MapChunkSource, selector: MapSelector, options: { btfCache?: BtfCache; withBtf?: boolean } = {}): Promise<MapSnapshot> {
  const keyParts: Uint8Array[] = [];
  const valueParts: Uint8Array[] = [];
  const { info, total, typing } = await forEachMapChunk(source, selector, (chunk) => {
    keyParts.push(chunk.keys);
    valueParts.push(chunk.values);
  }, options);
  const join = (parts: Uint8Array[]) => (parts.length === 1 ? parts[0] : new Uint8Array(Buffer.concat(parts)));
  return {
    info, layout: typing.layout, count: total, valueStride: valueStride(typing.layout),
    keys: join(keyParts), values: join(valueParts), ...(typing.rawBtf ? { rawBtf: typing.rawBtf } : {}),
  };
}
