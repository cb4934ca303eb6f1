// Test and benchmark fixture: compiles test/fixtures/maps/flows.bpf.c, creates its BTF-typed maps in the
// kernel (libbpf through koffi), fills them with known entries in one batch, and pins them; remove() unpins.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, existsSync } from 'node:fs';
import { tmpdir, arch } from 'node:os';
import { join } from 'node:path';
import { libbpf } from '../../agent/src/ffi/libbpf';
import { libc } from '../../agent/src/ffi/libc';
import { BPFFS_DIR, isMounted, mountCommand } from '../../engine/targets/kernel-filesystems';

export const FLOWS_SOURCE = join(__dirname, '../fixtures/maps/flows.bpf.c');
export const CLANG = '/usr/bin/clang-19';

/** Why kernel map tests cannot run here, or undefined when they can. */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (BPF syscall)';
  if (!existsSync(CLANG)) return 'needs clang-19';
  if (!isMounted('bpf', BPFFS_DIR)) return `needs bpffs mounted at ${BPFFS_DIR} (scripts/setup.sh mounts it: ${mountCommand('bpf', BPFFS_DIR)})`;
  return undefined;
}

export function compileBpf(source: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'h5-bpf-'));
  try {
    const multiarch = arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch();
    const out = join(dir, 'obj.o');
    execFileSync(CLANG, ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}-linux-gnu`, '-c', source, '-o', out]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The flow entry i as the fixture writes it: deterministic, so tests can check decoded values. */
export function expectedFlow(i: number) {
  return {
    key: { saddr: 0x0a000000 + i, daddr: 0xc0a80001, sport: i % 65536, dport: 443, proto: 6, pad: [0, 0, 0] },
    value: {
      packets: i * 3,
      bytes: i * 1500 + 2 ** 40,
      comm: i % 7 === 0 ? '<b>html</b>' : `worker-${i % 1000}`,
      pid: 1000 + i,
      state: ['FLOW_NEW', 'FLOW_ESTABLISHED', 'FLOW_CLOSED'][i % 3],
    },
  };
}

const KEY_SIZE = 16;
const VALUE_SIZE = 40;

/** Writes flow entry i (see expectedFlow) at position k of the key and value buffers. */
function writeFlow(keys: Buffer, values: Buffer, k: number, i: number): void {
  const kk = k * KEY_SIZE;
  keys.writeUInt32LE(0x0a000000 + i, kk);
  keys.writeUInt32LE(0xc0a80001, kk + 4);
  keys.writeUInt16LE(i % 65536, kk + 8);
  keys.writeUInt16LE(443, kk + 10);
  keys.writeUInt8(6, kk + 12);
  const v = k * VALUE_SIZE;
  values.writeBigUInt64LE(BigInt(i * 3), v);
  values.writeBigUInt64LE(BigInt(i * 1500) + 2n ** 40n, v + 8);
  values.write(i % 7 === 0 ? '<b>html</b>' : `worker-${i % 1000}`, v + 16, 16, 'latin1');
  values.writeUInt32LE(1000 + i, v + 32);
  values.writeUInt32LE(i % 3, v + 36);
}

/** Flow entries 0..count-1 (see expectedFlow) as the kernel's key and value bytes. */
export function encodeFlows(count: number): { keys: Buffer; values: Buffer } {
  const keys = Buffer.alloc(count * KEY_SIZE);
  const values = Buffer.alloc(count * VALUE_SIZE);
  for (let i = 0; i < count; i++) writeFlow(keys, values, i, i);
  return { keys, values };
}

export interface PinnedFlows {
  flowsPath: string;
  perCpuPath: string;
  remove(): void;
}

/** Creates the flows map with `entries` entries and the per-CPU map (keys 0..3, value = key+1 on each CPU). */
export async function createPinnedFlows(pinPrefix: string, entries: number): Promise<PinnedFlows> {
  const bpf = libbpf();
  const cpus = bpf.possibleCpus();

  const obj = bpf.openObject(compileBpf(FLOWS_SOURCE), 'flows.bpf.o');
  const flowsPath = `${pinPrefix}-flows`;
  const perCpuPath = `${pinPrefix}-percpu`;
  try {
    const flows = bpf.findMap(obj, 'flows');
    const perCpu = bpf.findMap(obj, 'per_cpu_counts');
    if (!flows || !perCpu) throw new Error('flows.bpf.o lacks the flows or per_cpu_counts map');
    // Room for a few more, so tests can add entries.
    if (bpf.setMapMaxEntries(flows, entries + 64) !== 0) throw new Error('bpf_map__set_max_entries failed');
    const rc = await bpf.loadObject(obj);
    if (rc !== 0) throw new Error(`loading flows.bpf.o failed (errno ${-rc})`);
    const { keys, values } = encodeFlows(entries);
    const count = Buffer.alloc(4);
    count.writeUInt32LE(entries);
    if (entries > 0) {
      const urc = bpf.mapUpdateBatch(bpf.mapFd(flows), keys, values, count);
      if (urc !== 0) throw new Error(`bpf_map_update_batch failed (errno ${-urc})`);
    }
    const stride = 8 * cpus;
    const pcKeys = Buffer.alloc(16);
    const pcValues = Buffer.alloc(4 * stride);
    for (let k = 0; k < 4; k++) {
      pcKeys.writeUInt32LE(k, k * 4);
      for (let c = 0; c < cpus; c++) pcValues.writeBigUInt64LE(BigInt((k + 1) * (c + 1)), k * stride + c * 8);
    }
    count.writeUInt32LE(4);
    const prc = bpf.mapUpdateBatch(bpf.mapFd(perCpu), pcKeys, pcValues, count);
    if (prc !== 0) throw new Error(`per-CPU bpf_map_update_batch failed (errno ${-prc})`);
    for (const [map, path] of [[flows, flowsPath], [perCpu, perCpuPath]] as const) {
      const r = bpf.objPin(bpf.mapFd(map), path);
      if (r !== 0) throw new Error(`pinning ${path} failed (errno ${-r})`);
    }
  } catch (err) {
    for (const p of [flowsPath, perCpuPath]) if (existsSync(p)) unlinkSync(p);
    throw err;
  } finally {
    bpf.closeObject(obj);
  }
  return {
    flowsPath,
    perCpuPath,
    remove() {
      for (const p of [flowsPath, perCpuPath]) if (existsSync(p)) unlinkSync(p);
    },
  };
}

/**
 * Changes a pinned flows map as traffic would: adds `bump` to the packet count of the given entries (creating
 * those that are missing) and deletes the entries in `remove`.
 */
export function changeFlows(flowsPath: string, bump: number[], remove: number[] = [], by = 1): void {
  const bpf = libbpf();
  const fd = bpf.objGet(flowsPath);
  if (fd < 0) throw new Error(`cannot open ${flowsPath} (errno ${-fd})`);
  try {
    const count = Buffer.alloc(4);
    if (bump.length) {
      const keys = Buffer.alloc(bump.length * KEY_SIZE);
      const values = Buffer.alloc(bump.length * VALUE_SIZE);
      bump.forEach((i, k) => {
        writeFlow(keys, values, k, i);
        values.writeBigUInt64LE(BigInt(i * 3 + by), k * VALUE_SIZE);
      });
      count.writeUInt32LE(bump.length);
      const rc = bpf.mapUpdateBatch(fd, keys, values, count);
      if (rc !== 0) throw new Error(`bpf_map_update_batch failed (errno ${-rc})`);
    }
    if (remove.length) {
      const keys = Buffer.alloc(remove.length * KEY_SIZE);
      const scratch = Buffer.alloc(remove.length * VALUE_SIZE);
      remove.forEach((i, k) => writeFlow(keys, scratch, k, i));
      count.writeUInt32LE(remove.length);
      const rc = bpf.mapDeleteBatch(fd, keys, count);
      if (rc !== 0) throw new Error(`bpf_map_delete_batch failed (errno ${-rc})`);
    }
  } finally {
    libc().close(fd);
  }
}
