// `maps dump` against `bpftool -j map dump`: creates a pinned 100,000-entry hash map with BTF-typed struct key
// and value, times the real CLI process and bpftool on it (interleaved, median wall and CPU), checks both
// printed every entry, then 1,000,000 entries, then the agent's own CPU reading the 100,000-entry map at 1 Hz.
// Pins live under /sys/fs/bpf/ebpf-studio-bench-<pid>-* and are removed at the end. Run as root after a build.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MapMirror } from '../../engine/live-data/map-mirror';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { readMapRaw } from '../../agent/src/map-read';
import { changeFlows, createPinnedFlows, missingPrerequisite, type PinnedFlows } from '../../test/kernel/pinned-btf-map';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const AGENT = join(ROOT, 'dist', 'agent.js');
const RUNS = 7;
const TARGET_RATIO = 4;
const TICKS_PER_SECOND = 100;
const OUT = join(ROOT, '.cache', `map-dump-bench-${process.pid}.json`);

/** CPU seconds (user + system) of this process's waited-for children, from /proc/self/stat. */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs a command with stdout into a file (as a user redirecting the dump); returns wall and CPU seconds. */
function timeCommand(command: string, args: string[]): { wall: number; cpu: number } {
  const fd = openSync(OUT, 'w');
  const cpuBefore = childrenCpuSeconds();
  const started = process.hrtime.bigint();
  const run = spawnSync(command, args, { stdio: ['ignore', fd, 'pipe'] });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  closeSync(fd);
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr?.toString().trim()}`);
  return { wall, cpu: childrenCpuSeconds() - cpuBefore };
}

const ours = (path: string) => [process.execPath, [CLI, 'maps', 'dump', '--pinned', path, '--format', 'json']] as const;
const bpftool = (path: string) => ['bpftool', ['-j', 'map', 'dump', 'pinned', path]] as const;

/** Entries in the file the last command wrote: ours prints one per line, bpftool one JSON array. */
function countEntries(kind: 'ours' | 'bpftool'): number {
  const text = readFileSync(OUT, 'utf8');
  if (kind === 'bpftool') return (JSON.parse(text) as unknown[]).length;
  const entries = JSON.parse(text) as { key: { saddr: number }; value: { comm: string } }[];
  if (entries.some((e) => typeof e.key.saddr !== 'number' || typeof e.value.comm !== 'string')) throw new Error('maps dump printed entries without BTF decoding');
  return entries.length;
}

function countLines(): number {
  let n = 0;
  const text = readFileSync(OUT);
  for (let i = text.indexOf('{"key":'); i >= 0; i = text.indexOf('{"key":', i + 1)) n++;
  return n;
}

function compare(label: string, path: string, runs: number, entries: number): void {
  const times = { ours: [] as { wall: number; cpu: number }[], bpftool: [] as { wall: number; cpu: number }[] };
  for (let run = 0; run <= runs; run++) {
    for (const which of ['ours', 'bpftool'] as const) {
      const [command, args] = which === 'ours' ? ours(path) : bpftool(path);
      const t = timeCommand(command, [...args]);
      if (run === 0) {
        const n = countEntries(which);
        if (n !== entries) throw new Error(`${which} printed ${n} entries, expected ${entries}`);
        continue;
      }
      times[which].push(t);
    }
  }
  const o = { wall: median(times.ours.map((t) => t.wall)), cpu: median(times.ours.map((t) => t.cpu)) };
  const b = { wall: median(times.bpftool.map((t) => t.wall)), cpu: median(times.bpftool.map((t) => t.cpu)) };
  const size = (statSync(OUT).size / 1e6).toFixed(1);
  console.log(`${label}: median of ${runs} interleaved runs each (after one checked run), stdout to a file, end to end incl. process start`);
  console.log(`  ebpf-studio maps dump --format json: ${(o.wall * 1000).toFixed(0)} ms wall, ${(o.cpu * 1000).toFixed(0)} ms CPU`);
  console.log(`  bpftool -j map dump pinned:          ${(b.wall * 1000).toFixed(0)} ms wall, ${(b.cpu * 1000).toFixed(0)} ms CPU (last output ${size} MB)`);
  console.log(`  ratio (bpftool / ebpf-studio): ${(b.wall / o.wall).toFixed(2)}× wall, ${(b.cpu / Math.max(o.cpu, 0.001)).toFixed(2)}× CPU (target ≥ ${TARGET_RATIO}×)`);
}

/** The agent child this process started (by parent pid and command line, read from /proc). */
function agentPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      if (Number(stat[1]) !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('agent.js')) return Number(entry);
    } catch {
      // the process went away while we looked
    }
  }
  throw new Error('cannot find the agent process');
}

function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function agentCost(path: string, seconds: number): Promise<void> {
  const client = await connectLocalAgent({ agentPath: AGENT });
  try {
    const pid = agentPid();
    // As a map view polls: a mirror of the map that the agent keeps current with what changed.
    const mirror = new MapMirror(client, { pinned: path });
    const entries = (await mirror.refresh()).count;
    const cpuBefore = processCpuSeconds(pid);
    const started = Date.now();
    let transferred = 0;
    for (let tick = 1; tick <= seconds; tick++) {
      // Traffic: 1% of the flows count more packets every second.
      changeFlows(path, Array.from({ length: entries / 100 }, (_, k) => (k * 7919 + tick * 104729) % entries), [], tick);
      const read = (await mirror.refresh()).count;
      transferred += mirror.lastTransferred;
      if (read !== entries) throw new Error(`read ${read} entries, expected ${entries}`);
      const next = started + tick * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    const wall = (Date.now() - started) / 1000;
    const cpu = processCpuSeconds(pid) - cpuBefore;
    console.log(`agent reading a ${entries.toLocaleString('en-US')}-entry map at 1 Hz for ${seconds} s, 1% of entries changing per second ` +
      `(${Math.round(transferred / seconds)} entries sent per read): ${(cpu * 1000).toFixed(0)} ms CPU = ${((cpu / wall) * 100).toFixed(2)}% of one CPU (target < 1%)`);
    // The floor: the kernel's own bpf_map_lookup_batch of the same map, into buffers reused between reads.
    readMapRaw({ pinned: path }, undefined, { reuseBuffers: true });
    const before = process.cpuUsage();
    for (let i = 0; i < seconds; i++) readMapRaw({ pinned: path }, undefined, { reuseBuffers: true });
    const kernel = process.cpuUsage(before);
    const perRead = (kernel.user + kernel.system) / 1000 / seconds;
    console.log(`  of which the kernel's batch lookup alone (same map, in process): ${perRead.toFixed(1)} ms per read = ${(perRead / 10).toFixed(2)}% of one CPU at 1 Hz`);
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const missing = missingPrerequisite() ?? (existsSync(CLI) && existsSync(AGENT) ? undefined : 'needs the built CLI and agent (npm run build)');
  if (missing) {
    console.error(`map-dump bench cannot run: ${missing}`);
    process.exit(1);
  }
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const prefix = `/sys/fs/bpf/ebpf-studio-bench-${process.pid}`;
  let pinned: PinnedFlows | undefined;
  try {
    pinned = await createPinnedFlows(prefix, 100_000);
    compare('100,000-entry hash map, BTF struct key (16 B) and value (40 B)', pinned.flowsPath, RUNS, 100_000);
    await agentCost(pinned.flowsPath, 10);
    pinned.remove();
    pinned = await createPinnedFlows(`${prefix}-1m`, 1_000_000);
    const [command, args] = ours(pinned.flowsPath);
    const t = timeCommand(command, [...args]);
    const n = countLines();
    if (n !== 1_000_000) throw new Error(`maps dump printed ${n} of 1,000,000 entries`);
    console.log(`1,000,000-entry hash map: ebpf-studio maps dump --format json printed all ${n.toLocaleString('en-US')} entries ` +
      `(${(statSync(OUT).size / 1e6).toFixed(0)} MB) in ${(t.wall * 1000).toFixed(0)} ms wall, ${(t.cpu * 1000).toFixed(0)} ms CPU`);
  } finally {
    pinned?.remove();
    rmSync(OUT, { force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
