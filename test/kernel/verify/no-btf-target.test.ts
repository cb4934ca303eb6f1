// A target kernel without BTF, made real by running the agent in a private mount namespace where
// /sys/kernel/btf is an empty tmpfs: hello says so, btf fails with what to do, and a vmlinux.h probe gets one
// clear diagnostic while a probe on <linux/bpf.h> still verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { AgentClient, AgentRequestError } from '../../../engine/targets/agent-client';
import { ChildProcessStream } from '../../../engine/targets/local-transport';
import { verifyProbe } from '../../../engine/verify/verify-probe';
import { readProbePrograms } from '../../../server/src/analysis/probe-programs';
import { agentBundle, probesDir, skipUnlessReady } from './agent-under-test';

const skip = skipUnlessReady();

function agentWithoutBtf(): AgentClient {
  const script = 'mount -t tmpfs none /sys/kernel/btf && exec "$0" "$1"';
  const child = spawn('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', script, process.execPath, agentBundle()], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new AgentClient(new ChildProcessStream(child), { targetName: 'no-btf' });
}

test('a kernel without BTF: hello, btf fetch and a vmlinux.h probe say so clearly', { skip, timeout: 60_000 }, async () => {
  const agent = agentWithoutBtf();
  try {
    const hello = await agent.request('hello', {});
    assert.equal(hello.btfPresent, false);
    assert.equal(hello.btfSha256, undefined);
    await assert.rejects(agent.request('btf', {}), (err: AgentRequestError) => {
      assert.equal(err.code, 'ENOBTF');
      assert.match(err.message, /no BTF .*CONFIG_DEBUG_INFO_BTF=y/);
      return true;
    });
    const vmlinuxProbe = join(probesDir, 'accepted-vmlinux.bpf.c');
    const result = await verifyProbe({ sourcePath: vmlinuxProbe, programs: await readProbePrograms(vmlinuxProbe), agent });
    assert.equal(result.verdict, 'compile-error');
    const [diagnostic] = result.diagnostics.get(vmlinuxProbe) ?? [];
    assert.equal(diagnostic.code, 'no-btf');
    assert.match(diagnostic.message as string, /has no BTF/);
    const plain = await verifyProbe({ sourcePath: join(probesDir, 'invalid-return.bpf.c'), programs: await readProbePrograms(join(probesDir, 'invalid-return.bpf.c')), agent });
    assert.equal(plain.verdict, 'rejected', 'probes on <linux/bpf.h> still reach the verifier');
  } finally {
    await agent.close();
  }
});
