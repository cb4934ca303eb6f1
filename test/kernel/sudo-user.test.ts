// The user-with-sudo path, as a temporary user with NOPASSWD sudo (created here, removed afterwards) in a private mount
// namespace where bpffs, tracefs and securityfs start unmounted: `scripts/setup.sh mounts` mounts them through sudo,
// the doctor then finds nothing missing and reaches the agent through `sudo -n`, and run-tests.mjs re-runs as root.
// A second temporary user, without sudo: the doctor's privileges fix, run as given, lets it start the agent that way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DoctorCheck } from '../../engine/targets/local-doctor';
import { skipUnless, missingPrerequisite } from './kernel-prerequisites';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const missingTool = ['useradd', 'userdel', 'sudo', 'runuser'].find((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const skip = skipUnless(missingPrerequisite() ?? missingTool ?? (existsSync(cli) ? undefined : 'the built CLI (npm run build)'), 'the sudo-user test');

const user = `ebpfsudo${process.pid}`;
const homedir = (name: string) => execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':')[5];
const sudoers = `/etc/sudoers.d/ebpf-studio-test-${user}`;
const userWithoutSudo = `ebpfnosudo${process.pid}`;
const sudoersFromFix = `/etc/sudoers.d/ebpf-studio-test-${userWithoutSudo}`;
let scratch = '';

before(() => {
  if (skip) return;
  execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', user]);
  execFileSync('useradd', ['--no-create-home', '--shell', '/bin/bash', userWithoutSudo]);
  writeFileSync(sudoers, `${user} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  // root-owned and readable by the user: the agent's install root (must be root-owned) and a test the runner runs
  scratch = mkdtempSync(join(tmpdir(), 'ebpf-studio-sudo-user-'));
  chmodSync(scratch, 0o755);
  // as tools under test do, it writes into the cache of the HOME sudo kept: the user's, whom the runner gives it back to
  const writesCache = "const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebpf-studio', 'from-root-run');\nmkdirSync(cache, { recursive: true });\nwriteFileSync(join(cache, 'file'), '');\n";
  writeFileSync(join(scratch, 'runs-as-root.test.ts'), `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { mkdirSync, writeFileSync } from 'node:fs';\nimport { homedir } from 'node:os';\nimport { join } from 'node:path';\ntest('runs as root', () => {\nassert.equal(process.getuid?.(), 0);\n${writesCache}});\n`, { mode: 0o644 });
});

after(() => {
  if (skip) return;
  rmSync(sudoers, { force: true });
  rmSync(sudoersFromFix, { force: true });
  spawnSync('userdel', ['--remove', user], { encoding: 'utf8' });
  spawnSync('userdel', [userWithoutSudo], { encoding: 'utf8' });
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs each command as the user, one after another, in a new mount namespace with the kernel file systems unmounted. */
function asUserInFreshNamespace(commands: string[]) {
  const unmount = 'for d in /sys/fs/bpf /sys/kernel/tracing /sys/kernel/security; do while mountpoint -q $d; do umount -l $d; done; done';
  const steps = commands.map((command) => `runuser -u ${user} -- bash -o pipefail -c '${command}'; echo "status: $?"`).join('; ');
  // without NODE_TEST_CONTEXT, or the runner's node --test would take itself for a subtest of this one and run nothing;
  // without XDG_CACHE_HOME (CI points it at root's), so the user's tools use the user's own cache
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_TEST_CONTEXT' && name !== 'XDG_CACHE_HOME'));
  return spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', `${unmount}; ${steps}`], { encoding: 'utf8', cwd: root, env, timeout: 240_000 });
}

test('as a user with sudo: setup mounts, the doctor passes, the test runner runs as root', { skip, timeout: 300_000 }, () => {
  const node = process.execPath;
  const run = asUserInFreshNamespace([
    'id -u; bash scripts/setup.sh mounts',
    `EBPF_STUDIO_INSTALL_ROOT=${scratch} ${node} dist/cli.js targets probe 2>/dev/null | tail -n 1`,
    `PATH=${join(node, '..')}:$PATH ${node} scripts/run-tests.mjs ${scratch} 2>&1 | grep -E "(tests|pass|fail) [0-9]+$"`,
  ]);
  const [mounts, doctor, runner] = run.stdout.split(/^status: .*\n/m);
  const statuses = [...run.stdout.matchAll(/^status: (\d+)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [0, 0, 0], `every step succeeds: ${mounts}\n${runner}\n${run.stderr}`);

  assert.notEqual(mounts.split('\n')[0], '0', 'the setup step ran as the user, not root');
  for (const fs of ['bpf at /sys/fs/bpf', 'tracefs at /sys/kernel/tracing', 'securityfs at /sys/kernel/security']) assert.match(mounts, new RegExp(`setup: mounted ${fs}`));

  const checks = new Map((JSON.parse(doctor.trim()) as { checks: DoctorCheck[] }).checks.map((c) => [c.name, c]));
  for (const name of ['bpffs', 'tracefs', 'privileges']) assert.equal(checks.get(name)?.status, 'ok', `${name}: ${checks.get(name)?.detail}`);
  assert.match(checks.get('privileges')?.detail ?? '', /Not root; `sudo -n` works/);
  // tracefs is root-only: the user is told that, not to mount what is mounted
  assert.match(checks.get('kprobes')?.detail ?? '', /Unknown to this user: tracefs at \/sys\/kernel\/tracing is readable by root only/);

  assert.match(runner, /tests 1\n.*pass 1\n.*fail 0/, 'the runner re-ran itself through sudo, so its test ran as root');
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
  const made = join(homedir(user), '.cache', 'ebpf-studio', 'from-root-run');
  assert.deepEqual([made, join(made, 'file'), join(made, '..')].map((path) => statSync(path).uid), [uid, uid, uid], 'what the root run made in the user\'s cache is the user\'s');
});

test('as a user without sudo: the doctor says privileges are missing, and its fix lets the agent start through sudo', { skip, timeout: 300_000 }, () => {
  // the agent version the test above installed into the scratch root through sudo
  const probeAsUser = () => {
    const run = spawnSync('runuser', ['-u', userWithoutSudo, '--', process.execPath, cli, 'targets', 'probe'], { encoding: 'utf8', cwd: root, env: { ...process.env, EBPF_STUDIO_INSTALL_ROOT: scratch }, timeout: 240_000 });
    const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { checks: DoctorCheck[]; error?: string; kernelRelease?: string };
    return { report, privileges: report.checks.find((c) => c.name === 'privileges'), stderr: run.stderr };
  };
  const before = probeAsUser();
  assert.equal(before.privileges?.status, 'missing', before.stderr);
  const rule = `${userWithoutSudo} ALL=(root) NOPASSWD: ${scratch}/agent/*/run-agent`;
  assert.equal(before.privileges?.fix, `echo '${rule}' | sudo tee /etc/sudoers.d/ebpf-studio >/dev/null && sudo chmod 0440 /etc/sudoers.d/ebpf-studio`);
  assert.match(before.report.error ?? '', /sudo wants a password and none was given \(no terminal to ask on/, 'the agent did not start');

  // the fix exactly as given, run by an administrator, into this test's own sudoers file
  execFileSync('sh', ['-c', (before.privileges?.fix ?? '').replaceAll('/etc/sudoers.d/ebpf-studio', sudoersFromFix)]);
  const after = probeAsUser();
  assert.equal(after.privileges?.status, 'ok', after.stderr);
  assert.match(after.privileges?.detail ?? '', /`sudo -n` may start the installed agent's launcher/);
  assert.equal(after.report.error, undefined, after.stderr);
  assert.ok(after.report.kernelRelease, 'the agent answered its hello through the launcher');
});
