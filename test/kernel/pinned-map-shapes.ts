// Test and benchmark fixture: creates test/fixtures/maps/map-shapes.bpf.c's maps in the kernel at the sizes asked
// (a hash, a per-CPU hash and an LRU hash of flows, an array of counters), fills them in batches and pins them.
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { libbpf } from '../../agent/src/ffi/libbpf';
import { compileBpf, encodeFlows } from './pinned-btf-map';

export const MAP_SHAPES_SOURCE = join(__dirname, '../fixtures/maps/map-shapes.bpf.c');

export type ShapeName = 'flows_hash' | 'flows_percpu' | 'flows_lru' | 'counters_array';
export const SHAPE_NAMES: ShapeName[] = ['flows_hash', 'flows_percpu', 'flows_lru', 'counters_array'];

export interface ShapeSizes {
  /** max_entries of every map. */
  maxEntries: number;
  /** Entries put into each of the three flow hashes. */
  flowEntries: number;
}

export interface PinnedShapes {
  paths: Record<ShapeName, string>;
  remove(): void;
}

/** What the per-CPU hash holds for flow i on CPU c, and the array for index i (flows hold expectedFlow(i)). */
export const expectedCounters = (i: number, cpu = 0) => ({ packets: i * 3 + cpu, bytes: i * 1500 + cpu });

function encodeCounters(count: number, cpus: number): Buffer {
  const values = Buffer.alloc(count * 16 * cpus);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < cpus; c++) {
      const { packets, bytes } = expectedCounters(i, c);
      values.writeBigUInt64LE(BigInt(packets), (i * cpus + c) * 16);
      values.writeBigUInt64LE(BigInt(bytes), (i * cpus + c) * 16 + 8);
    }
  }
  return values;
}

function fill(fd: number, keys: Buffer, values: Buffer, count: number, what: string): void {
  const n = Buffer.alloc(4);
  n.writeUInt32LE(count);
  const rc = libbpf().mapUpdateBatch(fd, keys, values, n);
  if (rc !== 0) throw new Error(`filling ${what} with bpf_map_update_batch failed (errno ${-rc})`);
}

/** Creates, fills and pins the four maps at `${pinPrefix}-<map name>`; remove() unpins them. */
export async function createPinnedShapes(pinPrefix: string, sizes: ShapeSizes): Promise<PinnedShapes> {
  const bpf = libbpf();
  const cpus = bpf.possibleCpus();
  const paths = Object.fromEntries(SHAPE_NAMES.map((name) => [name, `${pinPrefix}-${name}`])) as Record<ShapeName, string>;
  const remove = () => {
    for (const p of Object.values(paths)) if (existsSync(p)) unlinkSync(p);
  };
  const obj = bpf.openObject(compileBpf(MAP_SHAPES_SOURCE), 'map-shapes.bpf.o');
  try {
    const maps = Object.fromEntries(SHAPE_NAMES.map((name) => {
      const map = bpf.findMap(obj, name);
      if (!map) throw new Error(`map-shapes.bpf.o lacks the ${name} map`);
      if (bpf.setMapMaxEntries(map, sizes.maxEntries) !== 0) throw new Error(`bpf_map__set_max_entries of ${name} failed`);
      return [name, map];
    }));
    const rc = await bpf.loadObject(obj);
    if (rc !== 0) throw new Error(`loading map-shapes.bpf.o failed (errno ${-rc})`);
    const flows = encodeFlows(sizes.flowEntries);
    fill(bpf.mapFd(maps.flows_hash), flows.keys, flows.values, sizes.flowEntries, 'flows_hash');
    fill(bpf.mapFd(maps.flows_lru), flows.keys, flows.values, sizes.flowEntries, 'flows_lru');
    fill(bpf.mapFd(maps.flows_percpu), flows.keys, encodeCounters(sizes.flowEntries, cpus), sizes.flowEntries, 'flows_percpu');
    const indexes = Buffer.alloc(sizes.maxEntries * 4);
    for (let i = 0; i < sizes.maxEntries; i++) indexes.writeUInt32LE(i, i * 4);
    fill(bpf.mapFd(maps.counters_array), indexes, encodeCounters(sizes.maxEntries, 1), sizes.maxEntries, 'counters_array');
    for (const name of SHAPE_NAMES) {
      const r = bpf.objPin(bpf.mapFd(maps[name]), paths[name]);
      if (r !== 0) throw new Error(`pinning ${paths[name]} failed (errno ${-r})`);
    }
    return { paths, remove };
  } catch (err) {
    remove();
    throw err;
  } finally {
    bpf.closeObject(obj);
  }
}
