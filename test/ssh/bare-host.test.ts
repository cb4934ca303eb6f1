// A stock server over SSH against a real sshd on 127.0.0.1: no Node visible to the session (hidden in sshd's mount
// namespace), no SFTP subsystem, ordinary logins with sudo (without and with a password, and with a password plus a
// NOPASSWD rule for the launcher). Temp users and their sudoers file removed afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentPackage } from '../../engine/targets/agent-upload';
import { connectSshAgent, type SshAgent, type SshAgentOptions } from '../../engine/targets/ssh-transport';
import type { SshHost } from '../../engine/targets/target-address';
import type { SshPrompts } from '../../engine/targets/ssh-connection';
import { runtimeDirName } from '../../engine/targets/node-runtime';
import { findClang } from '../../engine/toolchain/find-clang';
import { compileProbe } from '../../engine/toolchain/compile-probe';
import { buildTestAgent, PROJECT_ROOT as ROOT, type TestAgentBundle } from '../kernel/build-test-agent';
import { COUNT_YIELD_SOURCE, readCallCount, yieldWorkload } from '../kernel/count-yield';
import { loadedProgramIds, processesHolding, programsLeftSince } from '../kernel/loaded-programs';
import { waitFor } from '../kernel/wait-for';
import { sshPrerequisiteMissing, startSshd, type TestSshd } from './sshd-harness';

function missingHere(): string | undefined {
  const ssh = sshPrerequisiteMissing();
  if (ssh) return ssh;
  if (!existsSync('/usr/bin/sudo')) return 'sudo (apt-get install sudo)';
  if (!existsSync('/usr/bin/unshare')) return 'unshare (util-linux)';
  if (!existsSync('/sys/kernel/tracing/events/syscalls/sys_enter_sched_yield')) return 'tracefs with syscall tracepoints at /sys/kernel/tracing';
  return undefined;
}
const missing = missingHere();
if (missing && process.env.CI === 'true') throw new Error(`SSH bare-host tests cannot run: ${missing}`);

/** Loads the probe for a fresh workload, runs it, and returns the count the host's kernel saw; detaches and checks nothing stays. */
async function countOnHost(agent: SshAgent, object: Buffer, calls: number): Promise<number> {
  const workload = yieldWorkload(calls);
  const programsBefore = loadedProgramIds();
  const loaded = await agent.client.request('load', { object: object.toString('base64'), globals: { target_tgid: workload.pid } });
  assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
  const agentPids = processesHolding(loaded.programs.map((p) => p.id));
  assert.equal(agentPids.length, 1, 'one process on the host (the agent) holds the programs');
  await workload.go();
  const count = await readCallCount(agent.client, loaded.session);
  await agent.client.close();
  await waitFor('programs unloaded after the agent closed', () => programsLeftSince(programsBefore, agentPids).length === 0);
  return count;
}

describe('a bare host: no Node, no SFTP, an ordinary login with sudo', { skip: missing }, () => {
  const tag = process.pid % 100000;
  const nopass = `ebpfnp${tag}`;
  const withpass = `ebpfpw${tag}`;
  const launcherRule = `ebpflr${tag}`;
  const password = `Sudo-${tag}-${Date.now()}`;
  // Shaped like an agent request taking hello's id: a password line that reached the agent would make hello fail.
  const requestShapedPassword = `{"id":1,"method":"sudo-password-${tag}-${Date.now()}"}`;
  const sudoers = `/etc/sudoers.d/ebpf-studio-test-${tag}`;
  let sshd: TestSshd;
  let work: string;
  let installRoot: string;
  let knownHosts: string;
  let bundle: TestAgentBundle;
  let probeObject: Buffer;
  const logs: string[] = [];
  /** A separate install root, so the launcher-rule login installs a version the host does not have. */
  const launcherRuleRoot = () => join(work, 'install-launcher-rule');

  const noQuestions: SshPrompts = {
    confirmHostKey: async (q) => {
      throw new Error(`unexpected host key question for ${q.address}`);
    },
  };
  const hostAs = (user: string): SshHost => ({ name: `bare-${user}`, host: '127.0.0.1', port: sshd.port, user, identityFiles: [sshd.userKey], jumps: [] });
  const options = (extra: Partial<SshAgentOptions> = {}): SshAgentOptions => ({
    prompts: noQuestions,
    knownHostsPath: knownHosts,
    agentSocket: null,
    agentBundle: bundle.path,
    installRoot,
    log: (line) => logs.push(line),
    ...extra,
  });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ebpf-studio-bare-'));
    chmodSync(work, 0o755);
    installRoot = join(work, 'install');
    knownHosts = join(work, 'known_hosts');
    sshd = await startSshd({ sftp: false, hideNode: true });
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    for (const user of [nopass, withpass, launcherRule]) execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', user]);
    // A locked account (no password) cannot log in at all, even with a key: give each one.
    execFileSync('chpasswd', { input: `${withpass}:${password}\n${nopass}:Unused-${tag}-${Date.now()}\n${launcherRule}:${requestShapedPassword}\n` });
    writeFileSync(
      sudoers,
      `${nopass} ALL=(root) NOPASSWD: ALL\n${withpass} ALL=(root) ALL\n${launcherRule} ALL=(root) ALL\n${launcherRule} ALL=(root) NOPASSWD: ${launcherRuleRoot()}/agent/*/run-agent\n`,
      { mode: 0o440 },
    );
    execFileSync('visudo', ['-c', '-q', '-f', sudoers]);
    bundle = await buildTestAgent();
    const compiled = await compileProbe({ sourcePath: COUNT_YIELD_SOURCE, clang: await findClang(), machine: process.arch === 'arm64' ? 'aarch64' : 'x86_64' });
    assert.ok(compiled.object, compiled.stderr);
    probeObject = compiled.object;
  });

  after(async () => {
    await sshd?.stop();
    rmSync(sudoers, { force: true });
    for (const user of [nopass, withpass, launcherRule]) {
      try {
        execFileSync('userdel', ['--remove', user], { stdio: 'ignore' });
      } catch {
        // not created
      }
    }
    if (work) rmSync(work, { recursive: true, force: true });
    bundle?.remove();
  });

  test('the session really has no node and no SFTP', async () => {
    const agent = connectSshAgent(hostAs(nopass), options({ installRoot: '/bad path' }));
    await assert.rejects(agent, /must be an absolute path of letters/);
    const out = execFileSync('ssh', ['-i', sshd.userKey, '-p', String(sshd.port), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'BatchMode=yes', `${nopass}@127.0.0.1`, 'command -v node nodejs; echo end'], { encoding: 'utf8' });
    assert.equal(out.trim(), 'end', 'no node on the PATH of the session');
    assert.throws(() => execFileSync('sftp', ['-i', sshd.userKey, '-P', String(sshd.port), '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'BatchMode=yes', '-b', '/dev/null', `${nopass}@127.0.0.1`], { stdio: 'pipe' }));
  });

  test('sudo without a password: the runtime is brought, the agent installed root-owned over exec, exact counts; the next start reuses it', async () => {
    logs.length = 0;
    const first = await connectSshAgent(hostAs(nopass), options());
    assert.equal(first.uploaded, true);
    assert.equal(first.runtimeUploaded, true);
    assert.equal(first.privilege, 'sudo');
    assert.equal(first.facts.nodePath, undefined, 'the host has no node');
    assert.ok(logs.some((l) => /refused SFTP.*exec channel/.test(l)), logs.join('\n'));
    assert.equal(await countOnHost(first, probeObject, 120), 120);

    const pkg = agentPackage(bundle.path, first.facts.machine);
    assert.ok(pkg);
    const dir = join(installRoot, 'agent', pkg.dir);
    for (const file of ['agent.js', 'run-agent', 'SHA256SUMS', 'node_modules/koffi/index.js']) {
      const st = statSync(join(dir, file));
      assert.equal(st.uid, 0, `${file} is owned by root`);
      assert.equal(st.mode & 0o022, 0, `${file} is writable by root only`);
    }
    const node = join(installRoot, 'runtime', runtimeDirName(first.facts.machine), 'bin', 'node');
    assert.match(execFileSync(node, ['--version'], { encoding: 'utf8' }), /^v24\./);
    assert.deepEqual(readdirSync(join(`/home/${nopass}`, '.cache', 'ebpf-studio', 'upload')), [], 'the upload folder is gone');

    const second = await connectSshAgent(hostAs(nopass), options());
    assert.equal(second.uploaded, false);
    assert.equal(second.runtimeUploaded, false);
    assert.equal(await countOnHost(second, probeObject, 75), 75);
  });

  test('a changed agent.js is refused by the root-owned launcher before it runs, then installed again', async () => {
    const pkg = agentPackage(bundle.path, process.arch === 'arm64' ? 'aarch64' : 'x86_64');
    assert.ok(pkg);
    const marker = join(work, 'tampered-code-ran');
    appendFileSync(join(installRoot, 'agent', pkg.dir, 'agent.js'), `\nrequire('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    logs.length = 0;
    const agent = await connectSshAgent(hostAs(nopass), options());
    assert.equal(existsSync(marker), false, 'the added line never ran');
    assert.ok(logs.some((l) => /does not match its SHA256SUMS/.test(l)), logs.join('\n'));
    assert.equal(agent.uploaded, true, 'installed again');
    assert.equal(agent.runtimeUploaded, false, 'the runtime was already there');
    assert.equal(await countOnHost(agent, probeObject, 40), 40);
    assert.equal(existsSync(marker), false);
  });

  test('sudo with a password: asked (a wrong one again), exact counts; without a way to ask, the sudoers line names only the launcher', async () => {
    const asked: number[] = [];
    const agent = await connectSshAgent(
      hostAs(withpass),
      options({ prompts: { ...noQuestions, sudoPassword: async (q) => (asked.push(q.attempt), q.attempt === 1 ? 'wrong' : password) } }),
    );
    assert.deepEqual(asked, [1, 2]);
    assert.equal(agent.privilege, 'sudo-password');
    assert.equal(await countOnHost(agent, probeObject, 60), 60);
    await assert.rejects(connectSshAgent(hostAs(withpass), options()), (err: Error) => {
      assert.equal(err.name, 'PrerequisiteError');
      assert.ok(err.message.includes(`\`${withpass} ALL=(root) NOPASSWD: ${installRoot}/agent/*/run-agent\``), err.message);
      return true;
    });
    const grep = spawnSync('grep', ['-rl', '--', password, `/home/${withpass}`, installRoot], { encoding: 'utf8' });
    assert.equal(grep.status, 1, `the password is in no file: ${grep.stdout}${grep.stderr}`);
  });

  test('sudo with a password: a changed agent.js is refused by its launcher at start, then installed again', async () => {
    const pkg = agentPackage(bundle.path, process.arch === 'arm64' ? 'aarch64' : 'x86_64');
    assert.ok(pkg);
    const marker = join(work, 'tampered-code-ran-password-sudo');
    appendFileSync(join(installRoot, 'agent', pkg.dir, 'agent.js'), `\nrequire('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    logs.length = 0;
    const agent = await connectSshAgent(hostAs(withpass), options({ prompts: { ...noQuestions, sudoPassword: async () => password } }));
    assert.equal(existsSync(marker), false, 'the added line never ran');
    assert.ok(logs.some((l) => /refused by its launcher.*does not match its SHA256SUMS/.test(l)), logs.join('\n'));
    assert.equal(agent.uploaded, true, 'installed again');
    assert.equal(await countOnHost(agent, probeObject, 30), 30);
    assert.equal(existsSync(marker), false);
  });

  test('sudo with a password and a NOPASSWD rule for the launcher: the new version is installed with the password, launched without it', async () => {
    const asked: number[] = [];
    logs.length = 0;
    const root = launcherRuleRoot();
    const agent = await connectSshAgent(
      hostAs(launcherRule),
      options({ installRoot: root, prompts: { ...noQuestions, sudoPassword: async (q) => (asked.push(q.attempt), requestShapedPassword) } }),
    );
    assert.deepEqual(asked, [1], 'asked once, for the install');
    assert.equal(agent.privilege, 'sudo-password');
    assert.equal(agent.uploaded, true);
    assert.ok(logs.some((l) => l.startsWith(`running: exec sudo -n ${root}/agent/`)), logs.join('\n'));
    assert.equal(await countOnHost(agent, probeObject, 50), 50);

    const again = await connectSshAgent(hostAs(launcherRule), options({ installRoot: root }));
    assert.equal(again.privilege, 'sudo-launcher', 'the next start goes through the rule, with no question');
    assert.equal(again.uploaded, false);
    assert.equal(await countOnHost(again, probeObject, 20), 20);
  });

  test('the CLI on the bare host: run gives the exact count with a non-root login; targets probe says what the host has', async () => {
    const target = `ssh://${nopass}@127.0.0.1:${sshd.port}`;
    const common = ['--target', target, '--identity', sshd.userKey, '--known-hosts', knownHosts];
    const env = { ...process.env, EBPF_STUDIO_AGENT: bundle.path, EBPF_STUDIO_INSTALL_ROOT: installRoot, SSH_AUTH_SOCK: '' };
    const workload = spawn('python3', ['-c', 'import os,sys\nsys.stdin.readline()\nfor _ in range(33): os.sched_yield()\nsys.stdin.readline()'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const cli = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'src', 'cli.ts'), 'run', COUNT_YIELD_SOURCE, ...common, '--param', `target_tgid=${workload.pid}`, '--format', 'json', '--interval', '0.3', '--duration', '4'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cli.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    cli.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    await waitFor('the attach line', () => /attached count_yield/.test(stderr) || cli.exitCode !== null, 60_000);
    workload.stdin.write('\n');
    const code = await exited;
    workload.stdin.end('\n');
    assert.equal(code, 0, stderr);
    const samples = stdout.trim().split('\n').map((l) => JSON.parse(l) as { maps: { calls: { value: number }[] } });
    assert.deepEqual(samples.at(-1)?.maps.calls, [{ key: 0, value: 33 }], stderr);

    const probe = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'src', 'cli.ts'), 'targets', 'probe', ...common], { cwd: ROOT, env, encoding: 'utf8', timeout: 180_000 });
    assert.equal(probe.status, 0, probe.stderr);
    const facts = JSON.parse(probe.stdout) as { host: { user: string; privilege: string; glibc: string; node: unknown; libbpf: string; missing: string[] } };
    assert.equal(facts.host.user, nopass);
    assert.equal(facts.host.privilege, 'sudo');
    assert.equal(facts.host.glibc, execFileSync('getconf', ['GNU_LIBC_VERSION'], { encoding: 'utf8' }).trim().replace('glibc ', ''));
    assert.equal(facts.host.node, null, 'no node on the host');
    assert.match(facts.host.libbpf, /libbpf\.so\.1/);
    assert.deepEqual(facts.host.missing, []);
  });
});
