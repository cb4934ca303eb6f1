// The agent on this kernel: hello describes the machine, verify judges each program on its own with the whole
// log, bad objects get clear errors, and closing stdin mid-verify leaves nothing loaded. Runs `node agent.js`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { AgentRequestError } from '../../../engine/targets/agent-client';
import { connectLocalAgent } from '../../../engine/targets/local-transport';
import { agentBundle, loadedProgramIds, probesDir, skipUnlessReady } from './agent-under-test';
import { programsLeftSince } from '../loaded-programs';

const skip = skipUnlessReady();

function compile(probe: string): Buffer {
  const work = mkdtempSync(join(os.tmpdir(), 'ebpf-verify-'));
  try {
    const out = join(work, 'probe.o');
    execFileSync('clang-19', ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', `-I/usr/include/${os.machine()}-linux-gnu`, '-c', join(probesDir, probe), '-o', out]);
    return readFileSync(out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test('hello describes this machine', { skip }, async () => {
  const agent = await connectLocalAgent({ agentPath: agentBundle() });
  try {
    const hello = await agent.request('hello', {});
    assert.equal(hello.kernelRelease, os.release());
    assert.equal(hello.arch, os.machine());
    assert.equal(hello.btfPresent, true);
    assert.equal(hello.btfSha256, createHash('sha256').update(readFileSync('/sys/kernel/btf/vmlinux')).digest('hex'));
    const installed = execFileSync('sh', ['-c', 'readlink -f "$(ldconfig -p | grep -m1 "libbpf.so.1 " | sed "s/.*=> //")"'], { encoding: 'utf8' }).trim();
    assert.equal(hello.libbpfVersion, `v${/libbpf\.so\.(\d+\.\d+\.\d+)$/.exec(installed)?.[1]}`, `libbpf loaded from ${installed}`);
    assert.equal(hello.uid, 0);
  } finally {
    await agent.close();
  }
});

test('verify judges each program on its own: one rejected program does not hide an accepted one', { skip }, async () => {
  const before = loadedProgramIds();
  let agentPid = 0;
  const agent = await connectLocalAgent({ agentPath: agentBundle(), onSpawn: (pid) => (agentPid = pid) });
  try {
    const { programs } = await agent.request('verify', { object: compile('mixed.bpf.c').toString('base64'), objectName: 'mixed.bpf.o' });
    assert.deepEqual(programs.map((p) => [p.name, p.accepted]), [['count_getpid', true], ['count_getppid', false]]);
    const [good, bad] = programs;
    assert.ok(good.insnsProcessed && good.insnsProcessed > 0 && good.insnsProcessed < 1_000_000, `insns processed: ${good.insnsProcessed}`);
    assert.ok(good.stackDepth && good.stackDepth[0] > 0, 'stack depth reported');
    assert.equal(typeof good.verificationTimeUs, 'number');
    assert.equal(bad.errno, 13);
    assert.match(bad.log, /R0 invalid mem access 'map_value_or_null'/);
    assert.match(bad.log, /@ mixed\.bpf\.c:33/);
    assert.ok(agentPid > 0);
    assert.deepEqual(programsLeftSince(before, agentPid), [], 'nothing stays loaded after verify');
  } finally {
    await agent.close();
  }
});

test('a multi-megabyte log arrives whole (the buffer grows past ENOSPC), and level 2 is larger still', { skip, timeout: 120_000 }, async () => {
  const agent = await connectLocalAgent({ agentPath: agentBundle() });
  try {
    const object = compile('complexity-limit.bpf.c').toString('base64');
    const level1 = (await agent.request('verify', { object }, { timeoutMs: 60_000 })).programs[0];
    assert.equal(level1.accepted, false);
    assert.equal(level1.logTruncated, false);
    assert.ok(level1.log.length > 4 * 1024 * 1024, `log is ${level1.log.length} bytes`);
    assert.match(level1.log.slice(0, 200), /^0: R1=ctx\(\) R10=fp0$/m, 'the log starts at its first line');
    assert.match(level1.log, /The sequence of 8193 jumps is too complex\.\n/);
    const small = (await agent.request('verify', { object: compile('mixed.bpf.c').toString('base64'), logLevel: 2 })).programs[1];
    const smallLevel1 = (await agent.request('verify', { object: compile('mixed.bpf.c').toString('base64') })).programs[1];
    assert.ok(small.log.length > smallLevel1.log.length, 'level 2 logs more than level 1');
  } finally {
    await agent.close();
  }
});

test('a non-BPF object and an object without programs get clear errors', { skip }, async () => {
  const agent = await connectLocalAgent({ agentPath: agentBundle() });
  const work = mkdtempSync(join(os.tmpdir(), 'ebpf-verify-'));
  try {
    const hostObject = join(work, 'host.o');
    execFileSync('clang-19', ['-c', '-x', 'c', '-', '-o', hostObject], { input: 'int main(void) { return 0; }\n' });
    await assert.rejects(agent.request('verify', { object: readFileSync(hostObject).toString('base64'), objectName: 'host.o' }), (err: AgentRequestError) => {
      assert.equal(err.code, 'ENOTBPF');
      assert.match(err.message, /host\.o/);
      return true;
    });
    await assert.rejects(agent.request('verify', { object: compile('no-programs.bpf.c').toString('base64'), objectName: 'no-programs.bpf.o' }), (err: AgentRequestError) => {
      assert.equal(err.code, 'ENOPROGRAMS');
      assert.match(err.message, /no BPF programs.*SEC\(/s);
      return true;
    });
    await assert.rejects(agent.request('verify', { object: '' }), { code: 'EINVAL', message: /params\.object must not be empty/ });
    assert.equal((await agent.request('hello', {})).uid, 0, 'the agent keeps serving after bad input');
  } finally {
    rmSync(work, { recursive: true, force: true });
    await agent.close();
  }
});

test('closing stdin mid-verify ends the agent and nothing stays loaded', { skip, timeout: 60_000 }, async () => {
  const before = loadedProgramIds();
  const child = spawn(process.execPath, [agentBundle()], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let answered = false;
  child.stdout.on('data', () => {
    answered = true;
  });
  const object = compile('complexity-limit.bpf.c').toString('base64');
  child.stdin.write(`${JSON.stringify({ id: 1, method: 'verify', params: { object, logLevel: 2 } })}\n`);
  // A level-2 verify of this probe takes seconds; end stdin while the kernel is still verifying it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.stdin.end();
  const hangGuard = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000).unref());
  assert.equal(await Promise.race([exited, hangGuard]), 0, 'the agent exits when its stdin closes');
  assert.equal(answered, false, 'it exited without finishing the verify');
  assert.deepEqual(programsLeftSince(before), []);
});

test('the agent client fails a request clearly when the agent dies', { skip }, async () => {
  let pid = 0;
  const agent = await connectLocalAgent({ agentPath: agentBundle(), onSpawn: (p) => (pid = p) });
  const pending = agent.request('verify', { object: compile('complexity-limit.bpf.c').toString('base64'), logLevel: 2 });
  process.kill(pid, 'SIGKILL');
  await assert.rejects(pending, /closed while waiting for "verify"/);
  await agent.closed;
  await assert.rejects(agent.request('hello', {}), /not running/);
});
