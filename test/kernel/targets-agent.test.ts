// The agent's target methods on this kernel: exact sched_yield() count from a workload via a pid global, session-only stats,
// ring/perf buffer events with drop counts, attach errors that say why, feature probe, agent exit detaches everything.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvent } from '../../protocol/agent-rpc';
import type { AgentClient } from '../../engine/targets/agent-client';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { findClang } from '../../engine/toolchain/find-clang';
import { compileProbe } from '../../engine/toolchain/compile-probe';
import { buildTestAgent, PROJECT_ROOT, type TestAgentBundle } from './build-test-agent';
import { readCallCount, yieldWorkload } from './count-yield';
import { loadedProgramIds, programsHeldBy, programsLeftSince } from './loaded-programs';
import { waitFor } from './wait-for';

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'root (loading BPF programs)';
  if (!existsSync('/sys/kernel/tracing/events/syscalls/sys_enter_sched_yield')) return 'tracefs with syscall tracepoints at /sys/kernel/tracing';
  try {
    execFileSync('sh', ['-c', 'command -v python3 && command -v bpftool'], { stdio: 'ignore' });
  } catch {
    return 'python3 and bpftool (the workload and the independent check)';
  }
  return undefined;
}
const missing = missingPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`targets kernel tests need ${missing}`);

const MACHINE = process.arch === 'arm64' ? 'aarch64' : 'x86_64';

/** Open BPF_ENABLE_STATS fds (anon inode "bpf-stats") of one process, or of every process, from /proc/<pid>/fd. */
function statsFdsOpen(onlyPid?: number): number {
  let open = 0;
  const pids = onlyPid !== undefined ? [String(onlyPid)] : readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:bpf-stats') open++;
      } catch {
        // closed while looking
      }
    }
  }
  return open;
}

describe('agent targets methods on this kernel', { skip: missing ? `needs ${missing}` : false }, () => {
  let bundle: TestAgentBundle;
  let object: string;
  let errorsObject: string;
  let perfObject: string;
  let client: AgentClient;
  let agentPid = -1;

  before(async () => {
    bundle = await buildTestAgent();
    const clang = await findClang();
    const compile = async (name: string) => {
      const r = await compileProbe({ sourcePath: join(PROJECT_ROOT, 'test/fixtures/targets', name), clang, machine: MACHINE });
      assert.ok(r.object, r.stderr);
      return r.object.toString('base64');
    };
    object = await compile('count-yield.bpf.c');
    errorsObject = await compile('attach-errors.bpf.c');
    perfObject = await compile('perf-yield.bpf.c');
    client = await connectLocalAgent({ agentPath: bundle.path, onSpawn: (pid) => (agentPid = pid) });
  });

  after(async () => {
    await client?.close();
    bundle?.remove();
  });

  test('a tracepoint probe counts exactly the sched_yield() calls of a workload whose pid is set through a global', async () => {
    const workload = yieldWorkload(250);
    const programsBefore = loadedProgramIds();
    const loaded = await client.request('load', { object, globals: { target_tgid: workload.pid } });
    try {
      assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
      assert.equal(loaded.programs[0].type, 'tracepoint');
      assert.ok(programsHeldBy([agentPid]).has(loaded.programs[0].id), 'the agent holds the program it reported');
      assert.equal(await readCallCount(client, loaded.session), 0);
      await workload.go();
      assert.equal(await readCallCount(client, loaded.session), 250);
      const listed = await client.request('sessions', {});
      assert.deepEqual(listed.sessions.map((s) => s.session), [loaded.session]);
      assert.deepEqual(listed.sessions[0].maps.filter((m) => !m.internal).map((m) => `${m.name}:${m.type}`).sort(), ['calls:array', 'events:ringbuf']);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    assert.deepEqual(programsLeftSince(programsBefore, agentPid), [], 'detach unloads the program');
  });

  test('a global that does not exist, or a value that does not fit, is refused before load', async () => {
    await assert.rejects(client.request('load', { object, globals: { no_such_global: 1 } }), /no global "no_such_global"; it has target_tgid, record_tag/);
    await assert.rejects(client.request('load', { object, globals: { target_tgid: -1 } }), /unsigned 32-bit .* -1 does not fit/);
    assert.deepEqual((await client.request('sessions', {})).sessions, []);
  });

  test('run-time statistics count only while the session holds its BPF_ENABLE_STATS fd; the sysctl is untouched', async (t) => {
    const sysctl = () => readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
    assert.equal(sysctl(), '0', 'precondition: global stats are off');
    const withoutStats = await client.request('load', { object, stats: false, globals: { target_tgid: 1 } });
    try {
      assert.equal(withoutStats.statsEnabled, false);
      assert.equal(statsFdsOpen(agentPid), 0, 'no bpf-stats fd for a session without stats');
      // stats are machine-wide: another process (another test run) holding a stats fd while the workload runs makes run_cnt count
      let othersCounting = statsFdsOpen() > 0;
      const workload = yieldWorkload(50);
      let running = true;
      const going = workload.go().finally(() => (running = false));
      while (running) {
        othersCounting ||= statsFdsOpen() > 0;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await going;
      othersCounting ||= statsFdsOpen() > 0;
      const stats = await client.request('stats', { session: withoutStats.session });
      if (!othersCounting) assert.equal(stats.programs[0].runCnt, 0, 'nothing counted without a stats fd');
      else t.diagnostic('another process held a BPF_ENABLE_STATS fd while the workload ran, so run_cnt may count; not asserting 0');
    } finally {
      await client.request('detach', { session: withoutStats.session });
    }
    const withStats = await client.request('load', { object, globals: { target_tgid: 1 } });
    try {
      assert.equal(withStats.statsEnabled, true);
      assert.equal(sysctl(), '0', 'the session does not flip the global sysctl');
      assert.equal(statsFdsOpen(agentPid), 1, 'the agent holds one bpf-stats fd, for this session');
      const workload = yieldWorkload(50);
      await workload.go();
      const stats = await client.request('stats', { session: withStats.session });
      assert.ok(stats.programs[0].runCnt >= 50, `run_cnt ${stats.programs[0].runCnt} covers the 50 calls`);
      assert.ok(stats.programs[0].runTimeNs > 0);
    } finally {
      await client.request('detach', { session: withStats.session });
      assert.equal(statsFdsOpen(agentPid), 0, 'detach closes the session\'s stats fd');
    }
  });

  test('ring buffer records stream as events; a full queue drops and counts what it dropped', async () => {
    const collect = (session: string) => {
      const records: Buffer[] = [];
      let dropped = 0;
      const stop = client.onEvent((e: AgentEvent) => {
        if (e.session !== session) return;
        records.push(...e.records.map((r) => Buffer.from(r, 'base64')));
        dropped = e.dropped;
      });
      return { records, dropped: () => dropped, stop };
    };
    const workload = yieldWorkload(40);
    const loaded = await client.request('load', { object, globals: { target_tgid: workload.pid, record_tag: 0xabcdef } });
    const seen = collect(loaded.session);
    try {
      assert.deepEqual(await client.request('streamEvents', { session: loaded.session, map: 'events' }), { map: 'events', kind: 'ringbuf' });
      await workload.go();
      await waitFor('40 records', () => seen.records.length >= 40);
      assert.equal(seen.records.length, 40);
      assert.equal(seen.dropped(), 0);
      assert.ok(seen.records.every((r) => r.readBigUInt64LE(0) === 0xabcdefn && r.readUInt32LE(8) === workload.pid), 'records carry the tag global and the workload pid');
      assert.deepEqual(seen.records.map((r) => r.readUInt32LE(12)), [...Array(40).keys()]);
    } finally {
      seen.stop();
      await client.request('detach', { session: loaded.session });
    }

    const burst = yieldWorkload(100);
    const small = await client.request('load', { object, globals: { target_tgid: burst.pid } });
    const few = collect(small.session);
    try {
      await client.request('streamEvents', { session: small.session, map: 'events', maxQueue: 5 });
      await burst.go();
      await waitFor('every record delivered or counted as dropped', () => few.records.length + few.dropped() === 100);
      assert.ok(few.dropped() > 0, 'a queue of 5 cannot hold a burst of 100');
    } finally {
      few.stop();
      await client.request('detach', { session: small.session });
    }
  });

  test('perf buffer records stream as events too', async () => {
    const workload = yieldWorkload(15);
    const loaded = await client.request('load', { object: perfObject, globals: { target_tgid: workload.pid } });
    const records: Buffer[] = [];
    const stop = client.onEvent((e: AgentEvent) => {
      if (e.session === loaded.session) records.push(...e.records.map((r) => Buffer.from(r, 'base64')));
    });
    try {
      assert.deepEqual(await client.request('streamEvents', { session: loaded.session, map: 'perf_events' }), { map: 'perf_events', kind: 'perfbuf' });
      await workload.go();
      await waitFor('15 perf records', () => records.length >= 15);
      assert.equal(records.length, 15);
      assert.ok(records.every((r) => r.readBigUInt64LE(0) === (0x5eed0000n | BigInt(workload.pid))));
      await assert.rejects(client.request('streamEvents', { session: loaded.session, map: 'nope' }), /has no map "nope"/);
      await client.request('stopEvents', { session: loaded.session, map: 'perf_events' });
      assert.deepEqual((await client.request('sessions', {})).sessions.find((x) => x.session === loaded.session)?.streams, []);
    } finally {
      stop();
      await client.request('detach', { session: loaded.session });
    }
  });

  test('attach failures say why: kprobe without CONFIG_KPROBES, xdp without an interface', async (t) => {
    const facts = await client.request('hello', {});
    const loaded = await client.request('load', { object: errorsObject, programs: ['on_kprobe', 'on_xdp', 'on_getppid'] });
    try {
      const byName = new Map(loaded.programs.map((p) => [p.name, p]));
      assert.equal(byName.get('on_getppid')?.attached, true, 'a failing program does not stop the others');
      assert.equal(byName.get('on_xdp')?.attached, false);
      assert.match(byName.get('on_xdp')?.attachError ?? '', /needs a network interface: pass the attach option ifname/);
      if (facts.kprobes === false) assert.match(byName.get('on_kprobe')?.attachError ?? '', /without CONFIG_KPROBES/);
      else t.diagnostic('this kernel has kprobes; the CONFIG_KPROBES message is not exercised');
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    if (facts.lockdown && facts.lockdown !== 'none') {
      await assert.rejects(client.request('load', { object: errorsObject, programs: ['on_fentry'] }), /kernel lockdown "\w+" refuses fentry\/\S+ before verification \(EPERM\)/);
    }
  });

  test('attaching xdp needs an interface that exists; a missing one is named', async () => {
    const loaded = await client.request('load', { object: errorsObject, programs: ['on_xdp'], attach: { on_xdp: { ifname: 'nosuchif0' } } });
    try {
      assert.match(loaded.programs[0].attachError ?? '', /no network interface "nosuchif0"/);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
  });

  test('feature probe lists helpers per program type; attach points come from tracefs and BTF', async () => {
    const probe = await client.request('featureProbe', {}, { timeoutMs: 60_000 });
    const types = new Map(probe.programTypes.map((p) => [p.type, p]));
    const tracepoint = types.get('tracepoint');
    assert.ok(tracepoint?.supported);
    assert.ok(tracepoint.helpers.includes('map_lookup_elem') && tracepoint.helpers.includes('get_current_pid_tgid'));
    assert.ok(!types.get('socket_filter')?.helpers.includes('probe_read'), 'socket filters may not call probe_read');
    assert.ok(types.get('xdp')?.helpers.includes('xdp_adjust_head'));
    assert.ok(!tracepoint.helpers.includes('xdp_adjust_head'));
    const tps = await client.request('attachPoints', { kind: 'tracepoint', prefix: 'syscalls/sys_enter_getp' });
    assert.ok(tps.names.includes('syscalls/sys_enter_getpid'));
    const funcs = await client.request('attachPoints', { kind: 'btf', prefix: 'do_sys_open' });
    assert.ok(funcs.names.includes('do_sys_openat2'));
    const filter = await client.request('attachPoints', { kind: 'function', limit: 3 });
    assert.ok(filter.names.length === 3 || /available_filter_functions/.test(filter.unavailable ?? ''), 'either names or why not');
  });

  test('when the agent exits, every program it attached is gone', async () => {
    const programsBefore = loadedProgramIds();
    let ownPid = -1;
    const own = await connectLocalAgent({ agentPath: bundle.path, onSpawn: (pid) => (ownPid = pid) });
    const first = await own.request('load', { object, globals: { target_tgid: 1 } });
    const second = await own.request('load', { object, globals: { target_tgid: 2 } });
    const ids = [...first.programs, ...second.programs].map((p) => p.id);
    assert.deepEqual([...programsHeldBy([ownPid])].sort((a, b) => a - b), ids.sort((a, b) => a - b), 'the agent holds the programs of both sessions');
    await own.close();
    assert.deepEqual(programsLeftSince(programsBefore, ownPid), [], 'programs unloaded after agent exit');
    const pinned = execFileSync('sh', ['-c', 'ls /sys/fs/bpf 2>/dev/null || true'], { encoding: 'utf8' });
    assert.ok(!pinned.includes('count_yield'), 'nothing pinned');
  });
});
