// Every probe in ../shared/realworld (libbpf-tools, libbpf-bootstrap), used in place, through `ebpf-studio run` as a user
// runs it: compiled, loaded (one variant per handler, maps sized), attached, a workload made, and the counts or decoded
// events its own tool would print checked; probes this kernel cannot run end in one sentence naming the missing feature.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { runRunCommand } from '../../cli/src/run-command';
import { buildTestAgent, PROJECT_ROOT, type TestAgentBundle } from './build-test-agent';
import { skipUnlessReady } from './kernel-prerequisites';

const REALWORLD = resolve(PROJECT_ROOT, '..', 'shared', 'realworld');
const skip = existsSync(REALWORLD) ? skipUnlessReady('realworld probe tests') : process.env.CI === 'true' ? (() => { throw new Error(`realworld probe tests need ${REALWORLD}`); })() : `needs ${REALWORLD}`;

/** What this kernel has, asked live: kprobes (tracefs kprobe_events). */
const kprobes = existsSync('/sys/kernel/tracing/kprobe_events') || existsSync('/sys/kernel/debug/tracing/kprobe_events');
/** The lockdown mode, asked live (securityfs; no lockdown file there: no lockdown LSM); undefined without securityfs. */
function lockdownMode(): string | undefined {
  if (existsSync('/sys/kernel/security/lockdown')) return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/security/lockdown', 'utf8'))?.[1];
  return /^\S+ \/sys\/kernel\/security securityfs /m.test(readFileSync('/proc/mounts', 'utf8')) ? 'none' : undefined;
}

interface RunOutput {
  code: number;
  stderr: string;
  samples: { programs: { name: string; run_cnt: number }[]; maps: Record<string, unknown[]>; unreadable?: Record<string, string> }[];
  events: { events: string; fields: Record<string, unknown> }[];
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** `ebpf-studio run FILE --format json` in this process while `workload` runs every 150 ms. */
async function run(file: string, extra: string[] = [], workload?: () => void, seconds = 2): Promise<RunOutput> {
  const out = new Collect();
  const err = new Collect();
  const timer = workload ? setInterval(workload, 150) : undefined;
  try {
    const code = await runRunCommand([file, '--format', 'json', '--duration', String(seconds), '--interval', String(seconds / 2), '-I', resolve(file, '..'), ...extra], out, err);
    const lines = out.text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    return { code, stderr: err.text, samples: lines.filter((l) => l.programs), events: lines.filter((l) => l.fields) };
  } finally {
    clearInterval(timer);
  }
}

const tool = (name: string) => join(REALWORLD, 'libbpf-tools', `${name}.bpf.c`);
const bootstrap = (name: string) => join(REALWORLD, 'libbpf-bootstrap', `${name}.bpf.c`);
const runs = (o: RunOutput, program: string) => Math.max(0, ...o.samples.map((s) => s.programs.find((p) => p.name === program)?.run_cnt ?? 0));
const attachedLine = (o: RunOutput, program: string) => new RegExp(`^attached ${program} \\(`, 'm').test(o.stderr);
const exec = () => spawnSync('/bin/true');

describe('real-world probes through ebpf-studio run', { skip }, () => {
  let bundle: TestAgentBundle;
  let dir: string;
  before(async () => {
    bundle = await buildTestAgent();
    process.env.EBPF_STUDIO_AGENT = bundle.path;
    dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-realworld-'));
  });
  after(() => {
    delete process.env.EBPF_STUDIO_AGENT;
    bundle?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every probe in shared/realworld is covered below', () => {
    const files = ['libbpf-tools', 'libbpf-bootstrap'].flatMap((d) => readdirSync(join(REALWORLD, d)).filter((f) => f.endsWith('.bpf.c')));
    assert.deepEqual(files.filter((f) => !COVERED.has(f)), [], 'a probe without a test');
  });

  const COVERED = new Set<string>();
  const covers = (...names: string[]) => names.forEach((n) => COVERED.add(n));

  covers('bindsnoop.bpf.c', 'capable.bpf.c', 'filelife.bpf.c', 'tcpconnect.bpf.c', 'kprobe.bpf.c', 'ksyscall.bpf.c');
  for (const file of [tool('bindsnoop'), tool('capable'), tool('filelife'), tool('tcpconnect'), bootstrap('kprobe'), bootstrap('ksyscall')]) {
    test(`${basename(file)}: kprobes only`, async () => {
      const o = await run(file);
      if (kprobes) {
        assert.equal(o.code, 0, o.stderr);
        return;
      }
      assert.equal(o.code, 1);
      assert.match(o.stderr, /cannot run on \S+: every program is a kprobe and this kernel has no kprobes \(CONFIG_KPROBES is off\)\./);
      if (basename(file) === 'capable.bpf.c') assert.match(o.stderr, /map stackmap: max_entries 1024: default.*value size 1016 bytes: default, 127 frames/);
    });
  }

  covers('fentry.bpf.c', 'lsm.bpf.c');
  for (const file of [bootstrap('fentry'), bootstrap('lsm')]) {
    test(`${basename(file)}: fentry/fexit/LSM, refused under lockdown in one sentence`, async () => {
      const lockdown = lockdownMode() ?? assert.fail('the lockdown mode is unknown: securityfs is not mounted (bash scripts/setup.sh mounts)');
      const o = await run(file);
      if (lockdown === 'none') {
        assert.equal(o.code, 0, o.stderr);
        return;
      }
      assert.equal(o.code, 2, `lockdown "${lockdown}" refuses them: ${o.stderr}`);
      assert.match(o.stderr, /Load failed: kernel lockdown[^\n]* refuses (fentry|fexit|lsm)\/\S+ before verification \(EPERM\): this kernel cannot run fentry\/fexit\/LSM programs\./);
    });
  }

  covers('runqlat.bpf.c', 'hardirqs.bpf.c', 'drsnoop.bpf.c', 'offcputime.bpf.c');
  test('variants: tp_btf is loaded, the raw_tp twin is not (no event counted twice); unreadable cgroup maps do not stop the run', async () => {
    const pairs: [string, [string, string][]][] = [
      [tool('runqlat'), [['sched_switch', 'handle_sched_switch'], ['sched_wakeup', 'handle_sched_wakeup'], ['sched_wakeup_new', 'handle_sched_wakeup_new']]],
      [tool('hardirqs'), [['irq_handler_entry_btf', 'irq_handler_entry'], ['irq_handler_exit_btf', 'irq_handler_exit']]],
      [tool('drsnoop'), [['direct_reclaim_begin_btf', 'direct_reclaim_begin'], ['direct_reclaim_end_btf', 'direct_reclaim_end']]],
      [tool('offcputime'), [['sched_switch', 'sched_switch_raw']]],
    ];
    for (const [file, variants] of pairs) {
      const o = await run(file, [], exec);
      assert.equal(o.code, 0, o.stderr);
      for (const [chosen, twin] of variants) {
        assert.ok(attachedLine(o, chosen), `${chosen} attached: ${o.stderr}`);
        assert.match(o.stderr, new RegExp(`^not loaded ${twin} \\(raw_tp/[^)]+\\): variant of ${chosen} \\(tp_btf/`, 'm'));
        assert.ok(o.samples.every((s) => !s.programs.some((p) => p.name === twin)), `${twin} is not running`);
      }
      if (file.includes('runqlat') || file.includes('hardirqs')) assert.match(o.samples[0].unreadable?.cgroup_map ?? '', /not readable from user space: a cgroup array/);
    }
  });

  test('runqlat and offcputime count what their tools count: sched_switch runs, offcputime stack traces are stored and symbolized', async () => {
    const runq = await run(tool('runqlat'), [], exec);
    assert.ok(runs(runq, 'sched_switch') > 0);
    const off = await run(tool('offcputime'), [], exec);
    assert.match(off.stderr, /map stackmap: max_entries 1024: default/);
    assert.ok(Math.max(...off.samples.map((s) => (s.maps.stackmap ?? []).length)) > 0, 'offcputime stored stacks');
    // Kernel frames are named from /proc/kallsyms: an off-CPU stack passes through the scheduler.
    const frames = off.samples.flatMap((s) => (s.maps.stackmap ?? []) as { value: string[] }[]).flatMap((e) => e.value);
    assert.ok(frames.some((f) => /^(__)?schedule\+0x[0-9a-f]+$/.test(f)), `a symbolized schedule frame among ${frames.slice(0, 10).join(', ')}`);
  });

  covers('futexctn.bpf.c');
  test('futexctn: the stack-trace map sized by --map-size, futex waits recorded', async () => {
    const o = await run(tool('futexctn'), ['--map-size', 'stackmap=512:800'], exec);
    assert.equal(o.code, 0, o.stderr);
    assert.match(o.stderr, /map stackmap: max_entries 512 \(asked\); value size 800 bytes \(asked\)/);
    assert.ok(runs(o, 'futex_enter') > 0);
  });

  covers('execsnoop.bpf.c', 'bootstrap.bpf.c', 'bootstrap_legacy.bpf.c');
  test('execsnoop (perf buffer), bootstrap (ring buffer), bootstrap_legacy (perf buffer): exec events decode into named fields', async () => {
    const exe = await run(tool('execsnoop'), [], exec);
    assert.equal(exe.code, 0, exe.stderr);
    const trueExec = exe.events.find((e) => e.fields.comm === 'true');
    assert.ok(trueExec, `an execsnoop event for /bin/true among ${exe.events.length}`);
    assert.equal(trueExec.fields.args, '/bin/true');
    assert.equal(trueExec.fields.retval, 0);
    for (const file of [bootstrap('bootstrap'), bootstrap('bootstrap_legacy')]) {
      const o = await run(file, [], exec);
      assert.equal(o.code, 0, o.stderr);
      assert.ok(o.events.some((e) => e.fields.comm === 'true' && e.fields.filename === '/bin/true' && e.fields.exit_event === false), `${basename(file)}: exec of /bin/true`);
    }
  });

  covers('opensnoop.bpf.c');
  test('opensnoop: the opened path comes back as text in the decoded event (struct only reachable through a local pointer)', async () => {
    const path = join(dir, 'opensnoop-marker');
    const o = await run(tool('opensnoop'), [], () => closeSync(openSync(path, 'a')));
    assert.equal(o.code, 0, o.stderr);
    const hit = o.events.find((e) => (e.fields.fname as { pathes?: string } | undefined)?.pathes === path);
    assert.ok(hit, `an opensnoop event for ${path}`);
    assert.equal(hit.fields.pid, process.pid);
    assert.ok((hit.fields.ret as number) >= 0);
  });

  covers('tcplife.bpf.c', 'tcpstates.bpf.c');
  test('tcpstates and tcplife: a local TCP connection gives decoded events', async () => {
    const server = createServer((s) => s.end()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const dial = () => void connect(port, '127.0.0.1').on('error', () => undefined).on('data', () => undefined);
    try {
      const states = await run(tool('tcpstates'), [], dial);
      assert.equal(states.code, 0, states.stderr);
      assert.ok(states.events.some((e) => e.fields.dport === port || e.fields.sport === port), 'a tcpstates event on the test port');
      const life = await run(tool('tcplife'), [], dial);
      assert.equal(life.code, 0, life.stderr);
      assert.ok(life.events.some((e) => e.fields.dport === port || e.fields.sport === port), 'a tcplife event on the test port');
    } finally {
      server.close();
    }
  });

  covers('minimal.bpf.c', 'minimal_legacy.bpf.c', 'minimal_ns.bpf.c', 'biopattern.bpf.c', 'bitesize.bpf.c', 'mountsnoop.bpf.c', 'task_iter.bpf.c', 'profile.bpf.c', 'llcstat.bpf.c', 'runqlen.bpf.c');
  test('the rest attach; write(2), perf-event and profile probes count', async () => {
    for (const file of [bootstrap('minimal'), bootstrap('minimal_legacy'), bootstrap('minimal_ns'), tool('biopattern'), tool('bitesize'), tool('mountsnoop'), bootstrap('task_iter'), bootstrap('profile'), tool('llcstat'), tool('runqlen')]) {
      const o = await run(file, [], () => writeFileSync(join(dir, 'w'), 'x'));
      assert.equal(o.code, 0, `${basename(file)}: ${o.stderr}`);
      assert.doesNotMatch(o.stderr, /NOT attached/);
    }
    const profile = await run(bootstrap('profile'));
    assert.ok(profile.events.length > 0 && typeof profile.events[0].fields.comm === 'string', 'profile samples decode');
    assert.ok(runs(await run(tool('runqlen')), 'do_sample') > 0);
  });

  covers('tc.bpf.c', 'uprobe.bpf.c', 'usdt.bpf.c', 'javagc.bpf.c', 'sockfilter.bpf.c');
  test('probes whose user space supplies the target: tc on an interface, uprobes on a built binary; the others say what is missing', async () => {
    const tc = await run(bootstrap('tc'), ['--param', 'ifname=lo']);
    assert.equal(tc.code, 0, tc.stderr);
    const source = join(dir, 'uprobed.c');
    writeFileSync(source, 'int uprobed_add(int a, int b) { return a + b; }\nint uprobed_sub(int a, int b) { return a - b; }\nint main(void) { return uprobed_add(1, 2) - uprobed_sub(5, 2); }\n');
    execFileSync('gcc', ['-O0', '-o', join(dir, 'uprobed'), source]);
    const up = await run(bootstrap('uprobe'), ['--program', 'uprobe_add', '--program', 'uretprobe_add', '--param', `binaryPath=${join(dir, 'uprobed')}`, '--param', 'symbol=uprobed_add'], () => spawnSync(join(dir, 'uprobed')));
    assert.equal(up.code, 0, up.stderr);
    assert.ok(runs(up, 'uprobe_add') > 0 && runs(up, 'uretprobe_add') > 0);
    const usdt = await run(bootstrap('usdt'));
    assert.match(usdt.stderr, /usdt_auto_attach: cannot attach usdt\/libc\.so\.6:libc:setjmp: libc\.so\.6 has no USDT probe libc:setjmp|attached usdt_auto_attach/);
    const javagc = await run(tool('javagc'));
    assert.match(javagc.stderr, /NOT attached handle_gc_start: usdt names no probe/);
    const sockfilter = await run(bootstrap('sockfilter'));
    assert.match(sockfilter.stderr, /NOT attached socket_handler: cannot attach socket/);
  });
});
