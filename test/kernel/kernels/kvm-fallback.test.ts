// A KVM failure QEMU reports only after the agent's socket has closed still sends the boot to TCG. QEMU here is a
// stand-in (the real failure, nested KVM refusing an MSR, comes and goes with timing): a script that takes the
// agent connection and drops it, while a process it leaves holding QEMU's stderr writes the failure 300 ms later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootKernelVm, kvmUsable } from '../../../engine/kernels/kernel-vm-transport';
import type { AgentRequestError } from '../../../engine/targets/agent-client';
import { buildTestAgent } from '../build-test-agent';
import { missingPrerequisite, skipUnless } from '../kernel-prerequisites';

const KVM_LINE = 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69';

/** The stand-in: with accel=kvm it drops the agent connection, then (from a child holding stderr) reports the KVM failure; with accel=tcg it fails to start. */
const FAKE_QEMU = `
const { spawn } = require('node:child_process');
const args = process.argv.slice(2);
if (args[args.indexOf('-machine') + 1].includes('accel=tcg')) {
  process.stderr.write('stand-in qemu: no TCG here\\n');
  process.exit(1);
}
const path = /path=([^,]+)/.exec(args.find((a) => a.startsWith('socket,id=agent,')))[1];
const server = require('node:net').createServer((connection) => {
  const late = 'setTimeout(() => process.stderr.write(process.env.KVM_LINE + String.fromCharCode(10)), 300)';
  spawn(process.execPath, ['-e', late], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, KVM_LINE: ${JSON.stringify(KVM_LINE)} } });
  connection.destroy();
  server.close();
  process.exit(134);
});
server.listen(path);
`;

const missing = missingPrerequisite() ?? (kvmUsable() ? undefined : 'a usable /dev/kvm (the KVM attempt comes first only then)');
const skip = skipUnless(missing, 'the KVM fallback test');

test('a KVM failure reported after the agent socket closed still falls back to TCG', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-kvm-fallback-'));
  const cacheHome = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = join(dir, 'cache');
  const agent = await buildTestAgent();
  try {
    const image = join(dir, 'vmlinuz-6.99.0-stand-in');
    writeFileSync(image, 'not booted: the stand-in QEMU never reads it');
    const script = join(dir, 'qemu.js');
    writeFileSync(script, FAKE_QEMU);
    const qemuPath = join(dir, 'qemu-system-x86_64');
    writeFileSync(qemuPath, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
    chmodSync(qemuPath, 0o755);
    const console: string[] = [];
    await assert.rejects(
      bootKernelVm(image, { qemuPath, agentPath: agent.path, bootTimeoutMs: 30_000, onConsole: (line) => console.push(line) }),
      (err: AgentRequestError) => {
        assert.equal(err.code, 'EQEMU', err.message);
        assert.match(err.message, /stand-in qemu: no TCG here/);
        return true;
      },
    );
    assert.ok(
      console.some((line) => line.includes(`KVM cannot run this guest here (${KVM_LINE}); booting with TCG instead`)),
      `no fallback to TCG announced; console was:\n${console.join('\n')}`,
    );
  } finally {
    agent.remove();
    if (cacheHome === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = cacheHome;
    rmSync(dir, { recursive: true, force: true });
  }
});
