// `maps dump` reading a map in this process: the first chunk through the agent's reader, then each next chunk
// with bpf_map_lookup_batch on libuv's thread pool while the caller decodes the one before. Talks to libbpf (koffi).
import { endianness } from 'node:os';
import type { MapInfo, ReadMapParams } from '../../protocol/agent-rpc';
import type { MapChunkSource, RawMapChunk } from '../../engine/live-data/map-snapshot';
import { libbpf } from '../../agent/src/ffi/libbpf';
import { libc } from '../../agent/src/ffi/libc';
import { DEFAULT_CHUNK_ENTRIES, readMapRaw } from '../../agent/src/map-read';

const ENOENT = 2;

/** Entries per background read: bounds the memory a huge map takes, as the agent's reader does. */
const BACKGROUND_CHUNK_ENTRIES = DEFAULT_CHUNK_ENTRIES;

interface BatchAfter {
  params: ReadMapParams;
  map: MapInfo;
  possibleCpus: number;
  valueStride: number;
  cursor: string;
}

/**
 * Starts reading the chunk after `from.cursor` on a worker thread. Resolves to that chunk (with a cursor when
 * more follow), or to undefined whenever anything is unusual: the caller then reads on with the agent's
 * reader, which reports errors properly.
 */
function readInBackground(from: BatchAfter): Promise<RawMapChunk | undefined> {
  const bpf = libbpf();
  const { params, map, valueStride } = from;
  const fd = params.pinned !== undefined ? bpf.objGet(params.pinned) : params.id !== undefined ? bpf.mapFdById(params.id) : -1;
  if (fd < 0) return Promise.resolve(undefined);
  const capacity = Math.max(1, Math.min(BACKGROUND_CHUNK_ENTRIES, map.maxEntries));
  const keys = Buffer.allocUnsafe(capacity * map.keySize);
  const values = Buffer.allocUnsafe(capacity * valueStride);
  const inBatch = Buffer.from(from.cursor.slice(2), 'base64');
  const outBatch = Buffer.alloc(inBatch.length);
  const count = Buffer.alloc(4);
  const littleEndian = endianness() === 'LE';
  if (littleEndian) count.writeUInt32LE(capacity);
  else count.writeUInt32BE(capacity);
  const done = (rc: number | undefined): RawMapChunk | undefined => {
    libc().close(fd);
    const got = littleEndian ? count.readUInt32LE() : count.readUInt32BE();
    // ENOENT: that was the last chunk; 0: more follow after outBatch; anything else goes the careful way.
    if (rc === undefined || (rc !== 0 && -rc !== ENOENT) || (rc === 0 && got === 0)) return undefined;
    const chunk: RawMapChunk = { map, possibleCpus: from.possibleCpus, count: got, keys: keys.subarray(0, got * map.keySize), values: values.subarray(0, got * valueStride) };
    if (rc === 0) chunk.cursor = `b:${outBatch.toString('base64')}`;
    return chunk;
  };
  return bpf.mapLookupBatchAsync(fd, inBatch, outBatch, keys, values, count).then(done, () => done(undefined));
}

/** Chunks read in this process; while the caller decodes one batch chunk, the next is being read. */
export function overlappedChunkSource(): MapChunkSource {
  let next: { cursor: string; read: Promise<RawMapChunk | undefined> } | undefined;
  const readAhead = (params: ReadMapParams, chunk: RawMapChunk, valueStride: number) => {
    next = chunk.cursor ? { cursor: chunk.cursor, read: readInBackground({ params, map: chunk.map, possibleCpus: chunk.possibleCpus, valueStride, cursor: chunk.cursor }) } : undefined;
  };
  return async (params) => {
    if (next && params.cursor === next.cursor) {
      const chunk = await next.read;
      next = undefined;
      if (chunk) {
        readAhead(params, chunk, chunk.values.length / chunk.count);
        return chunk;
      }
    }
    const chunk = readMapRaw(params);
    if (chunk.method === 'batch' && chunk.count > 0 && (params.pinned !== undefined || params.id !== undefined)) readAhead(params, chunk, chunk.values.length / chunk.count);
    return chunk;
  };
}
