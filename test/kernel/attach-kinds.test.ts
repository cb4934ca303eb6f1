// Attach kinds that need options, on this kernel: xdp and tc on a veth fed from a test netns, cgroup_skb on a test cgroup,
// perf_event at a frequency, uprobe on libc's sched_yield; every counter must move and detach must remove the links.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient } from '../../engine/targets/agent-client';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { compileProbe } from '../../engine/toolchain/compile-probe';
import { findClang } from '../../engine/toolchain/find-clang';
import { buildTestAgent, PROJECT_ROOT, type TestAgentBundle } from './build-test-agent';
import { waitFor } from './wait-for';

/** The cgroup v2 mount: /sys/fs/cgroup on unified hierarchies, /sys/fs/cgroup/unified on hybrid ones. */
const CGROUP2 = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((d) => existsSync(join(d, 'cgroup.controllers')));
const LIBC = (() => {
  try {
    return /=>\s*(\S+)/.exec(execFileSync('sh', ['-c', `ldconfig -p | grep 'libc.so.6 (libc6,${process.arch === 'arm64' ? 'AArch64' : 'x86-64'}'`], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
})();

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'root';
  for (const tool of ['ip', 'python3']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return tool;
  if (!CGROUP2) return 'a cgroup v2 mount (/sys/fs/cgroup or /sys/fs/cgroup/unified)';
  if (!LIBC) return "libc.so.6 in ldconfig's cache";
  return undefined;
}
const missing = missingPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`attach-kinds kernel tests need ${missing}`);

const suffix = String(process.pid % 100000);
const NETNS = `ebpfst${suffix}`;
const IF_HOST = `ebh${suffix}`;
const IF_PEER = `ebp${suffix}`;

/** Python one-liner sending `count` UDP datagrams to `ip` (traffic without needing ping). */
const udp = (ip: string, count: number) => `python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b'x', ('${ip}', 9)) for _ in range(${count})]"`;

const sh = (command: string) => execFileSync('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

describe('attach kinds with options', { skip: missing ? `needs ${missing}` : false }, () => {
  let bundle: TestAgentBundle;
  let client: AgentClient;
  let object: string;
  let cgroup: string;

  const hits = async (session: string): Promise<number[]> => {
    const r = await client.request('readMap', { session, map: 'hits' });
    const values = Buffer.from(r.values, 'base64');
    return Array.from({ length: r.count }, (_, i) => Number(values.readBigUInt64LE(i * 8)));
  };

  before(async () => {
    bundle = await buildTestAgent();
    const compiled = await compileProbe({ sourcePath: join(PROJECT_ROOT, 'test/fixtures/targets/attach-kinds.bpf.c'), clang: await findClang(), machine: process.arch === 'arm64' ? 'aarch64' : 'x86_64' });
    assert.ok(compiled.object, compiled.stderr);
    object = compiled.object.toString('base64');
    client = await connectLocalAgent({ agentPath: bundle.path });
    sh(`ip netns add ${NETNS}`);
    sh(`ip link add ${IF_HOST} type veth peer name ${IF_PEER} && ip link set ${IF_PEER} netns ${NETNS}`);
    sh(`ip addr add 169.254.213.1/30 dev ${IF_HOST} && ip link set ${IF_HOST} up`);
    sh(`ip netns exec ${NETNS} sh -c 'ip addr add 169.254.213.2/30 dev ${IF_PEER} && ip link set ${IF_PEER} up && ip link set lo up'`);
    cgroup = join(CGROUP2 as string, `ebpf-studio-test-${process.pid}`);
    mkdirSync(cgroup);
  });

  after(async () => {
    await client?.close();
    spawnSync('ip', ['link', 'del', IF_HOST]);
    spawnSync('ip', ['netns', 'del', NETNS]);
    if (cgroup && existsSync(cgroup)) rmdirSync(cgroup);
    bundle?.remove();
  });

  test('xdp and tc on a veth see the packets sent from the peer namespace; detach removes them', async () => {
    const loaded = await client.request('load', { object, programs: ['xdp_count', 'tc_count'], attach: { '*': { ifname: IF_HOST } } });
    try {
      for (const p of loaded.programs) assert.equal(p.attached, true, `${p.name}: ${p.attachError}`);
      assert.match(sh(`ip -d link show ${IF_HOST}`), /xdp/, 'the interface shows the XDP program');
      sh(`ip netns exec ${NETNS} ${udp('169.254.213.1', 3)}`);
      const [xdp, tc] = await hits(loaded.session);
      assert.ok(xdp >= 3, `xdp saw ${xdp} packets`);
      assert.ok(tc >= 3, `tc saw ${tc} packets`);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    assert.doesNotMatch(sh(`ip -d link show ${IF_HOST}`), /prog\/xdp/, 'no XDP program left on the interface');
  });

  test('cgroup_skb/egress on a cgroup counts the traffic of a process in it', async () => {
    const loaded = await client.request('load', { object, programs: ['cg_egress'], attach: { cg_egress: { cgroupPath: cgroup } } });
    try {
      assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
      const send = spawnSync('sh', ['-c', `echo $$ > ${join(cgroup, 'cgroup.procs')} && exec ${udp('169.254.213.2', 2)}`]);
      assert.equal(send.status, 0, String(send.stderr));
      const counts = await hits(loaded.session);
      assert.ok(counts[4] >= 2, `cgroup egress saw ${counts[4]} packets`);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
  });

  test('perf_event samples at the asked frequency on every CPU', async () => {
    const loaded = await client.request('load', { object, programs: ['on_sample'], attach: { on_sample: { frequencyHz: 1000 } } });
    try {
      assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
      await waitFor('perf_event samples', async () => (await hits(loaded.session))[3] >= 20);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
  });

  test('uprobe on binary + symbol counts the calls of one process', async () => {
    const workload = spawn('python3', ['-c', 'import os,sys\nsys.stdin.readline()\nfor _ in range(25): os.sched_yield()\nsys.stdout.write("done\\n"); sys.stdout.flush()\nsys.stdin.readline()'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const done = new Promise<void>((resolve) => workload.stdout.on('data', (d: Buffer) => d.toString().includes('done') && resolve()));
    const exited = new Promise((r) => workload.once('exit', r));
    const loaded = await client.request('load', { object, programs: ['yield_uprobe'], globals: { target_tgid: workload.pid as number }, attach: { yield_uprobe: { binaryPath: LIBC, symbol: 'sched_yield' } } });
    try {
      assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
      workload.stdin.write('\n');
      await done;
      assert.equal((await hits(loaded.session))[2], 25);
    } finally {
      workload.stdin.end('\n');
      await exited;
      await client.request('detach', { session: loaded.session });
    }
  });
});
