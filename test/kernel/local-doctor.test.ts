// The local doctor through `ebpf-studio targets probe`, in a private mount namespace where bpffs, tracefs and
// securityfs start unmounted: each is reported missing with a fix command, and running exactly those commands
// makes the checks pass; what it says about BTF, kprobes and lockdown agrees with the agent's hello. Talks to the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DoctorCheck } from '../../engine/targets/local-doctor';
import { skipUnless, missingPrerequisite } from './kernel-prerequisites';

const cli = join(__dirname, '..', '..', 'dist', 'cli.js');
const skip = skipUnless(missingPrerequisite() ?? (existsSync(cli) ? undefined : 'the built CLI (npm run build)'), 'the local doctor test');

/** Runs `script` in a new mount namespace with the kernel file systems unmounted; `$CLI` probes this machine. */
function inFreshNamespace(script: string) {
  const unmount = 'for d in /sys/fs/bpf /sys/kernel/tracing /sys/kernel/security; do while mountpoint -q $d; do umount -l $d; done; done';
  return spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', `${unmount}; ${script}`], {
    encoding: 'utf8',
    env: { ...process.env, CLI: `${process.execPath} ${cli} targets probe` },
    timeout: 120_000,
  });
}

function checksOf(stdout: string): Map<string, DoctorCheck> {
  const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { checks: DoctorCheck[] };
  return new Map(report.checks.map((c) => [c.name, c]));
}

test('unmounted bpffs, tracefs and securityfs are reported with the commands that fix them, and those commands do', { skip, timeout: 180_000 }, () => {
  const before = inFreshNamespace('$CLI');
  assert.equal(before.status, 1, `exit 1 when something is missing; stderr: ${before.stderr}`);
  const checks = checksOf(before.stdout);
  assert.equal(checks.get('bpffs')?.status, 'missing');
  assert.equal(checks.get('bpffs')?.fix, 'mount -t bpf bpf /sys/fs/bpf');
  assert.equal(checks.get('tracefs')?.status, 'missing');
  assert.equal(checks.get('tracefs')?.fix, 'mount -t tracefs tracefs /sys/kernel/tracing');
  assert.equal(checks.get('lockdown')?.fix, 'mount -t securityfs securityfs /sys/kernel/security');
  assert.match(before.stderr, /✗ bpffs: bpffs is not mounted at \/sys\/fs\/bpf.*\n {4}fix: mount -t bpf bpf \/sys\/fs\/bpf\n/);

  const fixes = ['bpffs', 'tracefs', 'lockdown'].map((name) => checks.get(name)?.fix).join(' && ');
  const after = inFreshNamespace(`${fixes} && $CLI`);
  assert.equal(after.status, 0, `exit 0 once fixed; stderr: ${after.stderr}`);
  const fixed = checksOf(after.stdout);
  for (const name of ['bpffs', 'tracefs']) assert.equal(fixed.get(name)?.status, 'ok', name);
  assert.notEqual(fixed.get('lockdown')?.fix, checks.get('lockdown')?.fix, 'the lockdown mode is known once securityfs is mounted');

  // the doctor reads /sys itself; the agent's hello (in the same run) must see the same kernel
  const report = JSON.parse(after.stdout.trim().split('\n').at(-1) ?? '{}') as { btf: boolean; lockdown?: string; kprobes?: boolean };
  assert.equal(fixed.get('BTF')?.status === 'ok', report.btf);
  assert.equal(fixed.get('kprobes')?.status === 'ok', report.kprobes === true);
  assert.equal(fixed.get('lockdown')?.status === 'ok', (report.lockdown ?? 'none') === 'none');
  if (report.lockdown && report.lockdown !== 'none') assert.match(fixed.get('lockdown')?.detail ?? '', new RegExp(`"${report.lockdown}"`));
});
