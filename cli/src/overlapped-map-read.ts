// `maps dump` reading a map in this process: the first chunk through the agent's reader, then the rest with one
// bpf_map_lookup_batch on libuv's thread pool while the caller decodes the first chunk. Talks to libbpf (koffi).
import koffi from 'koffi';
import { endianness } from 'node:os';
import type { ReadMapParams } from '../../protocol/agent-rpc';
import type { MapChunkSource, RawMapChunk } from '../../engine/btf/map-snapshot';
import { libbpf } from '../../agent/src/libbpf';
import { readMapRaw } from '../../agent/src/map-read';

const ENOENT = 2;

interface BatchBindings {
  objGet(path: string): number;
  getFdById(id: number): number;
  lookupBatch: koffi.KoffiFunction;
  close(fd: number): number;
}

let bindings: BatchBindings | undefined;

function bind(): BatchBindings {
  if (!bindings) {
    const lib = libbpf().lib;
    const objGet = lib.func('int bpf_obj_get(const char *pathname)');
    const getFdById = lib.func('int bpf_map_get_fd_by_id(uint32_t id)');
    const close = koffi.load('libc.so.6').func('int close(int fd)');
    bindings = {
      objGet: (path) => objGet(path) as number,
      getFdById: (id) => getFdById(id) as number,
      lookupBatch: lib.func('int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, void *opts)'),
      close: (fd) => close(fd) as number,
    };
  }
  return bindings;
}

/**
 * Starts reading everything after `first` (a batch chunk with a cursor) on a worker thread. Resolves to that
 * chunk, or to undefined whenever anything is unusual (the caller then reads on with the agent's reader,
 * which reports errors properly).
 */
function readRestInBackground(params: ReadMapParams, first: RawMapChunk & { cursor: string }): Promise<RawMapChunk | undefined> {
  const b = bind();
  const fd = params.pinned !== undefined ? b.objGet(params.pinned) : params.id !== undefined ? b.getFdById(params.id) : -1;
  if (fd < 0) return Promise.resolve(undefined);
  const capacity = first.map.maxEntries;
  const valueStride = first.values.length / first.count;
  const keys = Buffer.allocUnsafe(capacity * first.map.keySize);
  const values = Buffer.allocUnsafe(capacity * valueStride);
  const inBatch = Buffer.from(first.cursor.slice(2), 'base64');
  const outBatch = Buffer.alloc(inBatch.length);
  const count = Buffer.alloc(4);
  const littleEndian = endianness() === 'LE';
  if (littleEndian) count.writeUInt32LE(capacity);
  else count.writeUInt32BE(capacity);
  return new Promise((resolve) => {
    b.lookupBatch.async(fd, inBatch, outBatch, keys, values, count, null, (err: unknown, rc: number) => {
      b.close(fd);
      const got = littleEndian ? count.readUInt32LE() : count.readUInt32BE();
      // The whole rest fits, so the kernel ends with ENOENT; anything else goes the careful way.
      if (err || -rc !== ENOENT) {
        resolve(undefined);
        return;
      }
      resolve({ map: first.map, possibleCpus: first.possibleCpus, count: got, keys: keys.subarray(0, got * first.map.keySize), values: values.subarray(0, got * valueStride) });
    });
  });
}

/** Chunks read in this process; after a first batch chunk the rest is read while the caller decodes it. */
export function overlappedChunkSource(): MapChunkSource {
  let rest: { cursor: string; read: Promise<RawMapChunk | undefined> } | undefined;
  return async (params) => {
    if (rest && params.cursor === rest.cursor) {
      const chunk = await rest.read;
      rest = undefined;
      if (chunk) return chunk;
    }
    const chunk = readMapRaw(params);
    if (!params.cursor && chunk.cursor && chunk.method === 'batch' && chunk.count > 0) {
      rest = { cursor: chunk.cursor, read: readRestInBackground(params, { ...chunk, cursor: chunk.cursor }) };
    }
    return chunk;
  };
}
