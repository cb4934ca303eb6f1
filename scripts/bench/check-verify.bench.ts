// Benchmarks `ebpf-studio check --verify FILE` as a CI pipeline runs it, one new process per run (node, the static rules,
// the agent's start, clang, the kernel's verifier), beside clang + `bpftool prog loadall` by hand on the same file, cold vs
// cold, interleaved, on real libbpf-tools probes; then the first run on a machine (empty caches) and warm, each vs by hand.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { provideLocalVmlinuxHeader } from '../../engine/toolchain/vmlinux-header';
import { findClang } from '../../engine/toolchain/find-clang';
import { bpfTargetArch, multiarchIncludeDir } from '../../engine/toolchain/target-arch';

const ROOT = resolve(__dirname, '..', '..');
const TOOLS = resolve(ROOT, '..', 'shared', 'realworld', 'libbpf-tools');
const PROBES = ['bitesize', 'drsnoop', 'tcpstates', 'runqlen'];
const RUNS = 5;
const FIRST_RUNS = 5;
const TARGET_RATIO = 1.5;

interface Timed {
  wallMs: number;
  cpuMs: number;
  stdout: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function load(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

/** Runs a shell command under /usr/bin/time: wall and CPU (user + system of it and every child it waited for). */
function timed(command: string, env: NodeJS.ProcessEnv = process.env): Timed {
  const run = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S', 'sh', '-c', command], { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(run.stderr);
  if (!m) throw new Error(`no timing from ${command}: ${run.stderr}`);
  if (run.status !== 0) throw new Error(`${command} failed (exit ${run.status}): ${run.stdout}${run.stderr}`);
  return { wallMs: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, stdout: run.stdout };
}

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  for (const row of rows) console.log(row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  '));
}

/** Median wall and CPU of ours and of by hand, and their ratios, as table cells. */
function figures(ours: Timed[], hand: Timed[]): string[] {
  const [ow, oc, hw, hc] = [median(ours.map((r) => r.wallMs)), median(ours.map((r) => r.cpuMs)), median(hand.map((r) => r.wallMs)), median(hand.map((r) => r.cpuMs))];
  return [ow.toFixed(0), oc.toFixed(0), hw.toFixed(0), hc.toFixed(0), `${(ow / hw).toFixed(2)}x`, `${(oc / hc).toFixed(2)}x`];
}

/** Resolves once no vmlinux.h generation or precompile a run left in the background holds its lock under `cache` (2-minute guard). */
async function backgroundBuildsDone(cache: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (readdirSync(cache, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('.pch.building') || f.endsWith('generating.lock'))) {
    if (Date.now() > deadline) throw new Error(`a background precompile under ${cache} is still running after 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('check-verify.bench loads programs through the kernel verifier: run it as root');
  if (!existsSync(TOOLS)) throw new Error(`the bench reads real probes from ${TOOLS}`);
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const cli = join(ROOT, 'dist', 'cli.js');
  const clang = await findClang();
  const machine = os.machine();
  const multiarch = multiarchIncludeDir(machine);
  const vmlinuxDir = dirname((await provideLocalVmlinuxHeader([])).path);
  const work = mkdtempSync(join(os.tmpdir(), 'check-verify-bench-'));
  const pins = `/sys/fs/bpf/ebpf-studio-bench-check-verify-${process.pid}`;
  const compileArgs = (file: string, includeDir: string) =>
    ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${bpfTargetArch(machine)}`, `-I${includeDir}`, ...(multiarch ? [`-I${multiarch}`] : []), '-c', basename(file), '-o', join(work, 'probe.o')].map(quote).join(' ');
  const byHand = (file: string, includeDir: string) =>
    `cd ${quote(dirname(file))} && ${quote(clang.path)} ${compileArgs(file, includeDir)} && bpftool prog loadall ${quote(join(work, 'probe.o'))} ${quote(pins)} && rm -rf ${quote(pins)}`;
  const ours = (file: string) => `${quote(process.execPath)} ${quote(cli)} check --verify ${quote(file)} 2>/dev/null`;
  const ourStatic = (file: string) => `${quote(process.execPath)} ${quote(cli)} check ${quote(file)}`;

  try {
    console.log(`load average before: ${load()} (2 cores shared by several engineers: loaded-machine figures)`);
    console.log(`cold = a new process per run, as a CI step runs it; vmlinux.h, its precompiled form and the clang version already cached`);
    console.log(`(${RUNS} runs each, interleaved, medians; CPU = user + system of the process and its children)\n`);
    const rows: string[][] = [['probe', 'lines', 'check --verify ms', 'CPU ms', 'clang+bpftool ms', 'CPU ms', 'wall ratio', 'CPU ratio', 'check alone ms']];
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    // One untimed run first, so the precompiled vmlinux.h and the clang version cache exist as on any later CI run.
    timed(ours(join(TOOLS, `${PROBES[0]}.bpf.c`)));
    for (const name of PROBES) {
      const file = join(TOOLS, `${name}.bpf.c`);
      const lines = execFileSync('wc', ['-l', file], { encoding: 'utf8' }).trim().split(/\s+/)[0];
      const oursRuns: Timed[] = [];
      const handRuns: Timed[] = [];
      const staticRuns: Timed[] = [];
      for (let i = 0; i < RUNS; i++) {
        const o = timed(ours(file));
        if (!/ 0 errors/.test(o.stdout)) throw new Error(`${name}: check --verify reported errors: ${o.stdout}`);
        oursRuns.push(o);
        handRuns.push(timed(byHand(file, vmlinuxDir)));
        staticRuns.push(timed(ourStatic(file)));
      }
      const [ow, oc, hw, hc, sw] = [median(oursRuns.map((r) => r.wallMs)), median(oursRuns.map((r) => r.cpuMs)), median(handRuns.map((r) => r.wallMs)), median(handRuns.map((r) => r.cpuMs)), median(staticRuns.map((r) => r.wallMs))];
      ratios.push(ow / hw);
      cpuRatios.push(oc / hc);
      rows.push([name, lines, ow.toFixed(0), oc.toFixed(0), hw.toFixed(0), hc.toFixed(0), `${(ow / hw).toFixed(2)}x`, `${(oc / hc).toFixed(2)}x`, sw.toFixed(0)]);
    }
    printTable(rows);
    const overall = median(ratios);
    console.log(`\ncold ratio, check --verify / (clang + bpftool prog loadall), median over the probes: wall ${overall.toFixed(2)}x (target ≤ ${TARGET_RATIO}x), CPU ${median(cpuRatios).toFixed(2)}x`);

    // The first run on a machine, as a CI job on a fresh machine runs it: an empty cache folder ($XDG_CACHE_HOME: no vmlinux.h,
    // no precompiled header, no clang version), beside the same file with caches warm, each beside by hand in the same loop.
    const file = join(TOOLS, `${PROBES[1]}.bpf.c`);
    const first = { ours: [] as Timed[], warm: [] as Timed[], hand: [] as Timed[], handFromBtf: [] as Timed[] };
    for (let i = 0; i < FIRST_RUNS; i++) {
      const cache = mkdtempSync(join(os.tmpdir(), 'check-verify-bench-cache-'));
      try {
        const o = timed(ours(file), { ...process.env, XDG_CACHE_HOME: cache });
        if (!/ 0 errors/.test(o.stdout)) throw new Error(`first run: check --verify reported errors: ${o.stdout}`);
        first.ours.push(o);
        // The whole vmlinux.h and its PCH the first run left generating (detached, nice 19) are waited for, untimed.
        await backgroundBuildsDone(cache);
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
      first.hand.push(timed(byHand(file, vmlinuxDir)));
      first.warm.push(timed(ours(file)));
      const handDir = join(work, 'vmlinux');
      first.handFromBtf.push(timed(`mkdir -p ${quote(handDir)} && bpftool btf dump file /sys/kernel/btf/vmlinux format c > ${quote(join(handDir, 'vmlinux.h'))} && ${byHand(file, handDir)}`));
      rmSync(handDir, { recursive: true, force: true });
    }
    const m = (runs: Timed[], key: 'wallMs' | 'cpuMs') => median(runs.map((r) => r[key]));
    const firstRatio = m(first.ours, 'wallMs') / m(first.hand, 'wallMs');
    console.log(`\n${basename(file)}, ${FIRST_RUNS} rounds interleaved, medians. By hand = clang -g -O2 -target bpf with the vmlinux.h the user already has ` +
      `(no precompiled header) + bpftool prog loadall into bpffs + rm of the pins, in one sh; no vmlinux.h generation. ` +
      `Ours: CPU leaves out the whole vmlinux.h and its PCH the first run generates after its compile (detached, nice 19) for the next runs.`);
    const firstRows = [
      ['', 'check --verify ms', 'CPU ms', 'by hand ms', 'CPU ms', 'wall ratio', 'CPU ratio'],
      ['first run, empty caches', ...figures(first.ours, first.hand)],
      ['caches warm', ...figures(first.warm, first.hand)],
      ['by hand from nothing (bpftool btf dump first)', '', '', m(first.handFromBtf, 'wallMs').toFixed(0), m(first.handFromBtf, 'cpuMs').toFixed(0), '', ''],
    ];
    printTable(firstRows);
    console.log(`first run, empty caches / by hand: wall ${firstRatio.toFixed(2)}x (target ≤ ${TARGET_RATIO}x)`);
    console.log(`warm vs warm (agent running, compile + verify only): npm run bench verify`);
    console.log(`load average after: ${load()}`);
    if (overall > TARGET_RATIO || firstRatio > TARGET_RATIO) process.exitCode = 1;
  } finally {
    rmSync(pins, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
