// `ebpf-studio run` on this machine, as a user runs it: --param sets the probe's pid filter, --format json prints
// decoded maps and program stats per interval, Ctrl-C (SIGINT) detaches and exits 0; a template folder runs too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestAgent, PROJECT_ROOT, type TestAgentBundle } from './build-test-agent';
import { loadedProgramIds, programsHeldBy, programsLeftSince, processTree } from './loaded-programs';
import { waitFor } from './wait-for';

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'root (loading BPF programs)';
  if (!existsSync('/sys/kernel/tracing/events/syscalls/sys_enter_sched_yield')) return 'tracefs with syscall tracepoints at /sys/kernel/tracing';
  try {
    execFileSync('sh', ['-c', 'command -v python3 && command -v bpftool && command -v clang-19'], { stdio: 'ignore' });
  } catch {
    return 'python3, bpftool and clang-19';
  }
  return undefined;
}
const missing = missingPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`run-command kernel tests need ${missing}`);

const CLI = join(PROJECT_ROOT, 'cli', 'src', 'cli.ts');
/** The CLI compiles through tsx before it attaches: on a loaded 2-core machine that alone took over 10 s. */
const HANG_GUARD_MS = 60_000;
const PROBE = join(PROJECT_ROOT, 'test', 'fixtures', 'targets', 'count-yield.bpf.c');

interface RunningCli {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startCli(args: string[], agent: string): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, EBPF_STUDIO_AGENT: agent }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let partial = '';
  let stdout = '';
  const json = args.includes('json');
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    if (!json) return;
    partial += text;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts.filter(Boolean)) lines.push(JSON.parse(line));
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, stdout: () => stdout, stderr: () => stderr, exit };
}

describe('ebpf-studio run on this machine', { skip: missing ? `needs ${missing}` : false }, () => {
  let bundle: TestAgentBundle;
  let programsBefore = new Set<number>();
  before(async () => {
    bundle = await buildTestAgent();
    programsBefore = loadedProgramIds();
  });
  after(() => bundle?.remove());

  test('--param sets the pid filter, JSON lines carry decoded maps and stats, Ctrl-C detaches', async () => {
    const workload = spawn('python3', ['-c', 'import os,sys\nsys.stdin.readline()\nfor _ in range(30): os.sched_yield()\nsys.stdin.readline()'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const workloadExit = new Promise((r) => workload.once('exit', r));
    const programsBeforeRun = loadedProgramIds();
    const run = startCli(['run', PROBE, '--param', `target_tgid=${workload.pid}`, '--format', 'json', '--interval', '0.2'], bundle.path);
    try {
      const id = Number(await waitFor('the attach line', () => /attached count_yield .* program id (\d+)/.exec(run.stderr())?.[1], HANG_GUARD_MS));
      assert.ok(programsHeldBy(processTree(run.child.pid ?? -1)).has(id), 'the run (its agent) holds the program it says it attached');
      workload.stdin?.write('\n');
      const sample = await waitFor('a sample with 30 calls', () =>
        run.lines.find((l) => (l.maps as Record<string, { key: unknown; value: unknown }[]>)?.calls?.[0]?.value === 30),
        HANG_GUARD_MS,
      );
      assert.equal(sample.target, 'local');
      assert.equal(typeof sample.t, 'number');
      assert.deepEqual((sample.maps as Record<string, unknown>).calls, [{ key: 0, value: 30 }], 'keys and values decoded to numbers through BTF');
      assert.ok(!('events' in (sample.maps as object)), 'ring buffers are not dumped as maps');
      const programs = sample.programs as { name: string; section: string; run_cnt: number; run_time_ns: number }[];
      assert.equal(programs[0].name, 'count_yield');
      assert.equal(programs[0].section, 'tracepoint/syscalls/sys_enter_sched_yield');
      assert.ok(programs[0].run_cnt >= 30);
      run.child.kill('SIGINT');
      assert.equal(await run.exit, 0, run.stderr());
      assert.match(run.stderr(), /detached from local/);
      assert.deepEqual(programsLeftSince(programsBeforeRun), [], 'the program is gone after Ctrl-C');
    } finally {
      run.child.kill('SIGKILL');
      workload.stdin?.end('\n');
      await workloadExit;
    }
  });

  test('--duration ends the run by itself; a template folder runs with its declared parameters', async () => {
    const template = join(PROJECT_ROOT, 'bpf-templates', 'syscall-latency');
    if (!existsSync(join(template, 'template.json'))) {
      assert.fail(`the bundled template ${template} is missing`);
    }
    const run = startCli(['run', template, '--duration', '1', '--interval', '0.5', '--format', 'json'], bundle.path);
    assert.equal(await run.exit, 0, run.stderr());
    assert.ok(run.lines.length >= 2, `printed ${run.lines.length} samples`);
    const last = run.lines[run.lines.length - 1] as { programs: { run_cnt: number }[]; maps: Record<string, unknown> };
    assert.ok(last.programs.some((p) => p.run_cnt > 0), 'raw_tp programs ran');
    assert.match(run.stderr(), /detached from local/);
  });

  test('text format: program runs, decoded map entries and ring buffer event counts per interval', async () => {
    const workload = spawn('python3', ['-c', 'import os,sys\nsys.stdin.readline()\nfor _ in range(7): os.sched_yield()\nsys.stdin.readline()'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const workloadExit = new Promise((r) => workload.once('exit', r));
    const run = startCli(['run', PROBE, '--param', `target_tgid=${workload.pid}`, '--interval', '0.2'], bundle.path);
    try {
      await waitFor('the attach line', () => /attached count_yield/.test(run.stderr()), HANG_GUARD_MS);
      workload.stdin?.write('\n');
      await waitFor('7 events and the count in the text output', () => /events events: 7 received, 0 dropped/.test(run.stdout()) && /map calls: 1 entry\n\s+0 → 7/.test(run.stdout()), HANG_GUARD_MS);
      assert.match(run.stdout(), /--- local t=[\d.]+s\n {2}count_yield \(tracepoint\/syscalls\/sys_enter_sched_yield\): \d+ runs/);
      run.child.kill('SIGINT');
      assert.equal(await run.exit, 0, run.stderr());
    } finally {
      run.child.kill('SIGKILL');
      workload.stdin?.end('\n');
      await workloadExit;
    }
  });

  test('bad input: an unknown global, a missing file and a bad flag are clear errors', async () => {
    const unknown = startCli(['run', PROBE, '--param', 'nope=1', '--duration', '1'], bundle.path);
    assert.equal(await unknown.exit, 2);
    assert.match(unknown.stderr(), /no global "nope"; it has target_tgid, record_tag/);
    const absent = startCli(['run', join(PROJECT_ROOT, 'no-such.bpf.c')], bundle.path);
    assert.equal(await absent.exit, 2);
    assert.match(absent.stderr(), /does not exist/);
    const flag = startCli(['run', PROBE, '--format', 'xml'], bundle.path);
    assert.equal(await flag.exit, 2);
    assert.match(flag.stderr(), /--format is text or json/);
  });

  test('no run above left a program loaded', () => {
    assert.deepEqual(programsLeftSince(programsBefore), []);
  });
});
