// SSH targets against a real sshd on 127.0.0.1: first-contact prompt, changed host key refused, wrong password,
// host down, agent uploaded once per version, connection killed mid-session (programs gone within 2 s), two hosts at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSsh, SshConnectError, type HostKeyQuestion, type SshPrompts } from '../../engine/targets/ssh-connection';
import { agentPackage } from '../../engine/targets/agent-upload';
import { DEFAULT_INSTALL_ROOT } from '../../engine/targets/agent-install';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { connectSshAgent, type SshAgentOptions } from '../../engine/targets/ssh-transport';
import { TargetSessions } from '../../engine/targets/target-sessions';
import { resolveTarget, type SshHost } from '../../engine/targets/target-address';
import { findClang } from '../../engine/toolchain/find-clang';
import { compileProbe } from '../../engine/toolchain/compile-probe';
import { buildTestAgent, PROJECT_ROOT as ROOT, type TestAgentBundle } from '../kernel/build-test-agent';
import { COUNT_YIELD_SOURCE } from '../kernel/count-yield';
import { loadedProgramIds, processesHolding, programsHeldBy, programsLeftSince, processTree } from '../kernel/loaded-programs';
import { waitFor } from '../kernel/wait-for';
import { freePort, sshPrerequisiteMissing, startSshd, type TestSshd } from './sshd-harness';

const missing = sshPrerequisiteMissing();
if (missing && process.env.CI === 'true') throw new Error(`SSH tests cannot run: ${missing}`);

function hostOf(sshd: TestSshd, extra: Partial<SshHost> = {}): SshHost {
  return { name: `test-${sshd.port}`, host: '127.0.0.1', port: sshd.port, user: 'root', identityFiles: [sshd.userKey], jumps: [], ...extra };
}

const refuseQuestions: SshPrompts = {
  confirmHostKey: async (q) => {
    throw new Error(`unexpected host key question for ${q.address}`);
  },
};

/** Runs the CLI from source (no terminal attached) and collects its output. */
function runCli(args: string[], agent: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'src', 'cli.ts'), ...args], { cwd: ROOT, env: { ...process.env, EBPF_STUDIO_AGENT: agent, SSH_AUTH_SOCK: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('SSH targets against a real sshd', { skip: missing }, () => {
  let sshd: TestSshd;
  let work: string;
  let knownHosts: string;
  let agentBundle: TestAgentBundle;
  let probeObject: Buffer;

  const agentOptions = (extra: Partial<SshAgentOptions> = {}): SshAgentOptions => ({
    prompts: refuseQuestions,
    knownHostsPath: knownHosts,
    agentSocket: null,
    agentBundle: agentBundle.path,
    installRoot: join(work, 'install'),
    ...extra,
  });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ebpf-studio-ssh-test-'));
    knownHosts = join(work, 'known_hosts');
    sshd = await startSshd();
    agentBundle = await buildTestAgent();
    const clang = await findClang();
    const compiled = await compileProbe({ sourcePath: COUNT_YIELD_SOURCE, clang, machine: process.arch === 'arm64' ? 'aarch64' : 'x86_64' });
    assert.ok(compiled.object, compiled.stderr);
    probeObject = compiled.object;
  });

  after(async () => {
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    agentBundle?.remove();
  });

  test('first contact shows the SHA256 fingerprint and asks; the accepted key is remembered (hashed)', async () => {
    const questions: HostKeyQuestion[] = [];
    const first = await openSsh(hostOf(sshd), {
      knownHostsPath: knownHosts,
      agentSocket: null,
      prompts: { confirmHostKey: async (q) => (questions.push(q), true) },
    });
    first.close();
    assert.equal(questions.length, 1);
    assert.equal(questions[0].fingerprint, sshd.hostFingerprint);
    assert.equal(questions[0].address, `[127.0.0.1]:${sshd.port}`);
    const saved = readFileSync(knownHosts, 'utf8');
    assert.match(saved, /^\|1\|[^ ]+ ssh-ed25519 /m, 'entry is hashed');
    assert.ok(saved.includes(sshd.hostPublicKey.split(' ')[1]));
    const again = await openSsh(hostOf(sshd), { knownHostsPath: knownHosts, agentSocket: null, prompts: refuseQuestions });
    again.close();
  });

  test('declining the first-contact question refuses the connection and saves nothing', async () => {
    const path = join(work, 'known_hosts_declined');
    await assert.rejects(
      openSsh(hostOf(sshd), { knownHostsPath: path, agentSocket: null, prompts: { confirmHostKey: async () => false } }),
      (err: SshConnectError) => err.kind === 'host-key-refused' && /not accepted/.test(err.message),
    );
    assert.equal(existsSync(path) ? readFileSync(path, 'utf8') : '', '');
  });

  test('a changed host key is refused with why, without asking', async () => {
    const path = join(work, 'known_hosts_wrong');
    const otherKey = join(work, 'other_host_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const otherPublic = readFileSync(`${otherKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(path, `[127.0.0.1]:${sshd.port} ${otherPublic}\n`);
    await assert.rejects(openSsh(hostOf(sshd), { knownHostsPath: path, agentSocket: null, prompts: refuseQuestions }), (err: SshConnectError) => {
      assert.equal(err.kind, 'host-key-refused');
      assert.match(err.message, /CHANGED/);
      assert.ok(err.message.includes(sshd.hostFingerprint), 'names the offered fingerprint');
      assert.match(err.message, /ssh-keygen -R/);
      return true;
    });
  });

  test('a wrong password is refused after asking, and the error says what was tried', async () => {
    const passwordSshd = await startSshd({ passwordAuthentication: true });
    try {
      const attempts: number[] = [];
      await assert.rejects(
        openSsh(hostOf(passwordSshd, { identityFiles: [] }), {
          knownHostsPath: knownHosts,
          agentSocket: null,
          prompts: { confirmHostKey: async () => true, password: async (q) => (attempts.push(q.attempt), 'not-the-password') },
        }),
        (err: SshConnectError) => err.kind === 'auth-failed' && /password/.test(err.message) && /refused authentication as "root"/.test(err.message),
      );
      assert.deepEqual(attempts, [1, 2, 3]);
    } finally {
      await passwordSshd.stop();
    }
  });

  test('an encrypted key asks for its passphrase; a wrong one is asked again, then reported', async () => {
    const key = join(work, 'encrypted_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', '4', '-N', 'correct horse', '-f', key]);
    const authorized = join(sshd.dir, 'authorized_keys');
    const original = readFileSync(authorized, 'utf8');
    writeFileSync(authorized, original + readFileSync(`${key}.pub`, 'utf8'));
    try {
      const asked: number[] = [];
      const good = await openSsh(hostOf(sshd, { identityFiles: [key] }), {
        knownHostsPath: knownHosts,
        agentSocket: null,
        prompts: { ...refuseQuestions, passphrase: async (q) => (asked.push(q.attempt), q.attempt === 1 ? 'wrong' : 'correct horse') },
      });
      good.close();
      assert.deepEqual(asked, [1, 2]);
      await assert.rejects(
        openSsh(hostOf(sshd, { identityFiles: [key] }), { knownHostsPath: knownHosts, agentSocket: null, prompts: { ...refuseQuestions, passphrase: async () => 'wrong' } }),
        (err: SshConnectError) => err.kind === 'auth-failed' && err.message.includes(`${key} (unusable`),
      );
    } finally {
      writeFileSync(authorized, original);
    }
  });

  test('ProxyJump: the target is reached through a jump host, both host keys checked', async () => {
    const target = await startSshd();
    try {
      const path = join(work, 'known_hosts_jump');
      writeFileSync(path, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n[127.0.0.1]:${target.port} ${target.hostPublicKey}\n`);
      const before = target.sessionPids().length;
      const connection = await openSsh(hostOf(target, { jumps: [hostOf(sshd)] }), { knownHostsPath: path, agentSocket: null, prompts: refuseQuestions });
      try {
        assert.ok(sshd.sessionPids().length >= 1, 'the jump host carries a session');
        assert.equal(target.sessionPids().length, before + 1, 'the target host has the session');
        const out = await new Promise<string>((resolve, reject) =>
          connection.client.exec('echo through-the-jump', (err, ch) => {
            if (err) return reject(err);
            let text = '';
            ch.on('data', (d: Buffer) => (text += d.toString()));
            ch.on('close', () => resolve(text.trim()));
          }),
        );
        assert.equal(out, 'through-the-jump');
      } finally {
        connection.close();
      }
      writeFileSync(path, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n[127.0.0.1]:${target.port} ${sshd.hostPublicKey}\n`);
      await assert.rejects(openSsh(hostOf(target, { jumps: [hostOf(sshd)] }), { knownHostsPath: path, agentSocket: null, prompts: refuseQuestions }), (err: SshConnectError) => err.kind === 'host-key-refused');
    } finally {
      await target.stop();
    }
  });

  test('ProxyCommand from an ssh config carries the connection (host key still checked); the command ends with it', async () => {
    const config = join(work, 'proxy-config');
    const relay = `const s=require('net').connect(%p,'%h');process.stdin.pipe(s);s.pipe(process.stdout);s.on('close',()=>process.exit(0))`;
    writeFileSync(config, `Host via-proxy\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.userKey}\n  ProxyCommand ${process.execPath} -e "${relay}"\n`);
    const spec = resolveTarget('via-proxy', { sshConfigPath: config });
    assert.ok(spec.kind === 'ssh' && spec.host.proxyCommand?.includes(`connect(${sshd.port},'127.0.0.1')`));
    if (spec.kind !== 'ssh') return;
    const lines: string[] = [];
    const proxyKnownHosts = join(work, 'known_hosts_proxy');
    writeFileSync(proxyKnownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    const connection = await openSsh(spec.host, { knownHostsPath: proxyKnownHosts, agentSocket: null, prompts: refuseQuestions, log: (l) => lines.push(l) });
    try {
      assert.ok(lines.some((l) => l.startsWith('connecting through ProxyCommand')), lines.join('\n'));
      const out = await new Promise<string>((resolve, reject) =>
        connection.client.exec('echo through-the-proxy', (err, ch) => {
          if (err) return reject(err);
          let text = '';
          ch.on('data', (d: Buffer) => (text += d.toString()));
          ch.on('close', () => resolve(text.trim()));
        }),
      );
      assert.equal(out, 'through-the-proxy');
    } finally {
      connection.close();
    }
    await waitFor('the ProxyCommand process ended', () => !execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(`connect(${sshd.port},'127.0.0.1')`), 2000);
  });

  test('a temporary non-root user: the right password is accepted; without passwordless sudo the prerequisites say what to add', async () => {
    // The only test that needs a system user (sshd checks passwords against /etc/shadow); removed in `finally`.
    const user = `ebpfst${process.pid % 100000}`;
    const passwordSshd = await startSshd({ passwordAuthentication: true });
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', user]);
    try {
      execFileSync('chpasswd', { input: `${user}:Secret-${process.pid}\n` });
      const asked: number[] = [];
      const agentRun = connectSshAgent(
        { name: 'temp-user', host: '127.0.0.1', port: passwordSshd.port, user, identityFiles: [], jumps: [] },
        agentOptions({ prompts: { confirmHostKey: async () => true, password: async (q) => (asked.push(q.attempt), `Secret-${process.pid}`) } }),
      );
      await assert.rejects(agentRun, (err: Error) => {
        assert.equal(err.name, 'PrerequisiteError', err.message);
        assert.match(err.message, new RegExp(`User ${user} is not root and sudo asks for a password, with no way to ask for it here`));
        assert.ok(err.message.includes(`\`${user} ALL=(root) NOPASSWD: ${join(work, 'install')}/agent/*/run-agent\``), 'the sudoers line names only the root-owned launcher');
        return true;
      });
      assert.deepEqual(asked, [1], 'asked once, and the password was accepted');
      const connection = await openSsh(
        { name: 'temp-user', host: '127.0.0.1', port: passwordSshd.port, user, identityFiles: [], jumps: [] },
        { knownHostsPath: knownHosts, agentSocket: null, password: `Secret-${process.pid}`, prompts: refuseQuestions },
      );
      assert.equal(connection.authenticatedWith, 'password');
      assert.equal(connection.password, `Secret-${process.pid}`, 'handed back so the editor can offer to keep it in secret storage');
      connection.close();
    } finally {
      await passwordSshd.stop();
      execFileSync('userdel', ['--remove', user], { stdio: 'ignore' });
    }
  });

  test('a host that is down fails with a clear message (no retries until a timeout)', { timeout: 30_000 }, async () => {
    const port = await freePort();
    await assert.rejects(
      openSsh({ name: 'down', host: '127.0.0.1', port, user: 'root', identityFiles: [], jumps: [] }, { knownHostsPath: knownHosts, agentSocket: null, prompts: refuseQuestions }),
      (err: SshConnectError) => err.kind === 'host-down' && err.message.includes(`127.0.0.1:${port} refused the connection`),
    );
  });

  test('the agent is uploaded once per version, then reused; it loads and counts on the host', async () => {
    const first = await connectSshAgent(hostOf(sshd), agentOptions());
    try {
      assert.equal(first.uploaded, true);
      assert.ok(first.prerequisites.ok);
      const dirs = readdirSync(join(work, 'install', 'agent'));
      assert.equal(dirs.length, 1, `one version folder, got ${dirs.join(', ')}`);
      assert.ok(existsSync(join(work, 'install', 'agent', dirs[0], 'run-agent')));
      assert.equal(first.runtimeUploaded, false, "the host's own root-owned Node runs the agent");
    } finally {
      await first.client.close();
    }
    const programsBefore = loadedProgramIds();
    let agentPids: number[] = [];
    const second = await connectSshAgent(hostOf(sshd), agentOptions());
    try {
      assert.equal(second.uploaded, false);
      const loaded = await second.client.request('load', { object: probeObject.toString('base64'), globals: { target_tgid: 1 } });
      assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
      assert.ok(programsHeldBy(processTree(sshd.pid)).has(loaded.programs[0].id), 'the agent sshd started holds the program');
      agentPids = processesHolding([loaded.programs[0].id]);
      // the live helper facts the editor sends its language server for an SSH target: the host's own feature probe,
      // the same as the local agent's here (one kernel)
      const overSsh = await second.client.request('featureProbe', {}, { timeoutMs: 120_000 });
      const local = await connectLocalAgent({ agentPath: agentBundle.path });
      try {
        const here = await local.request('featureProbe', {}, { timeoutMs: 120_000 });
        assert.equal(overSsh.kernelRelease, here.kernelRelease);
        assert.deepEqual(overSsh.programTypes, here.programTypes);
      } finally {
        await local.close();
      }
    } finally {
      await second.client.close();
    }
    await waitFor('programs unloaded after the agent closed', () => programsLeftSince(programsBefore, agentPids).length === 0);
  });

  test('killing the connection mid-session leaves no program of the session loaded', async () => {
    const programsBefore = loadedProgramIds();
    const agent = await connectSshAgent(hostOf(sshd), agentOptions());
    const loaded = await agent.client.request('load', { object: probeObject.toString('base64'), globals: { target_tgid: 1 } });
    const ids = loaded.programs.map((p) => p.id);
    const held = programsHeldBy(processTree(sshd.pid));
    assert.ok(ids.every((id) => held.has(id)), 'the agent sshd started holds the programs');
    // the agent is followed by its pid: once its session dies it is no longer in sshd's process tree
    const agentPids = processesHolding(ids);
    const sessions = sshd.sessionPids();
    assert.ok(sessions.length >= 1, 'sshd has a session process for this connection');
    for (const pid of sessions) process.kill(pid, 'SIGKILL');
    await waitFor('programs unloaded after the connection died', () => programsLeftSince(programsBefore, agentPids).length === 0, 30_000);
    await agent.client.closed;
  });

  test('CLI over SSH: unknown host key refused without a terminal; run, targets probe and check --verify work once it is known', async () => {
    const machine = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
    const remoteDir = join(DEFAULT_INSTALL_ROOT, 'agent', agentPackage(agentBundle.path, machine)?.dir ?? 'none');
    const existedBefore = existsSync(remoteDir);
    const installRootExisted = existsSync(DEFAULT_INSTALL_ROOT);
    const target = `ssh://root@127.0.0.1:${sshd.port}`;
    const freshKnownHosts = join(work, 'known_hosts_cli');
    const common = ['--target', target, '--identity', sshd.userKey, '--known-hosts', freshKnownHosts];
    try {
      const refused = await runCli(['run', COUNT_YIELD_SOURCE, ...common, '--duration', '1'], agentBundle.path);
      assert.equal(refused.code, 2, "a refused host key is a failure of the tool: exit 2");
      assert.ok(refused.stderr.includes(sshd.hostFingerprint), 'names the fingerprint');
      assert.match(refused.stderr, /no terminal to ask/);
      assert.equal(existsSync(freshKnownHosts), false, 'nothing accepted silently');

      writeFileSync(freshKnownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
      const run = await runCli(['run', COUNT_YIELD_SOURCE, ...common, '--duration', '1', '--interval', '0.5', '--format', 'json', '--param', 'target_tgid=1'], agentBundle.path);
      assert.equal(run.code, 0, run.stderr);
      const samples = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { target: string; maps: { calls: unknown } });
      assert.ok(samples.length >= 2);
      assert.equal(samples[0].target, target);
      assert.deepEqual(samples[0].maps.calls, [{ key: 0, value: 0 }]);
      assert.match(run.stderr, /detached from ssh:\/\/root@127\.0\.0\.1/);

      const probe = await runCli(['targets', 'probe', ...common], agentBundle.path);
      assert.equal(probe.code, 0, probe.stderr);
      const facts = JSON.parse(probe.stdout) as { kernelRelease: string; arch: string; btf: boolean; libbpfVersion: string; programTypes: { type: string; helpers: string[] }[] };
      assert.equal(facts.kernelRelease, execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
      assert.equal(facts.arch, machine);
      assert.ok(facts.programTypes.find((p) => p.type === 'xdp')?.helpers.includes('xdp_adjust_head'));

      const check = await runCli(['check', '--verify', ...common, '--format', 'json', COUNT_YIELD_SOURCE], agentBundle.path);
      assert.equal(check.code, 0, check.stderr);
      const results = JSON.parse(check.stdout) as { diagnostics: { source?: string }[] }[];
      assert.ok(results.every((r) => r.diagnostics.every((d) => d.source !== 'verifier')), 'the host kernel accepts the probe');
      assert.match(check.stderr, /count_yield: accepted/);
    } finally {
      if (!existedBefore) rmSync(remoteDir, { recursive: true, force: true });
      if (!installRootExisted) rmSync(DEFAULT_INSTALL_ROOT, { recursive: true, force: true });
    }
  });

  test('several hosts at once: each gets its own status, a failing host does not stop the others', async () => {
    const second = await startSshd();
    const downPort = await freePort();
    try {
      const hosts = new Map<string, SshHost>([
        ['one', hostOf(sshd, { name: 'one' })],
        ['two', hostOf(second, { name: 'two' })],
        ['down', { name: 'down', host: '127.0.0.1', port: downPort, user: 'root', identityFiles: [], jumps: [] }],
      ]);
      const sessions = new TargetSessions(async (name) => {
        const host = hosts.get(name);
        assert.ok(host);
        return (await connectSshAgent(host, agentOptions({ prompts: { confirmHostKey: async () => true } }))).client;
      });
      const programsBefore = loadedProgramIds();
      const outcomes = await sessions.attach(['one', 'two', 'down'], { object: probeObject.toString('base64'), globals: { target_tgid: 1 } });
      assert.equal(outcomes.get('one')?.ok, true);
      assert.equal(outcomes.get('two')?.ok, true);
      assert.equal(outcomes.get('down')?.ok, false);
      const states = new Map(sessions.states().map((s) => [s.name, s]));
      assert.equal(states.get('one')?.status, 'attached');
      assert.equal(states.get('two')?.status, 'attached');
      assert.equal(states.get('down')?.status, 'failed');
      assert.match(states.get('down')?.message ?? '', /refused the connection/);
      const ids = [...outcomes.values()].flatMap((o) => (o.ok ? o.result.programs.map((p) => p.id) : []));
      assert.equal(ids.length, 2);
      const held = programsHeldBy([...processTree(sshd.pid), ...processTree(second.pid)]);
      assert.ok(ids.every((id) => held.has(id)), 'the agents the two sshds started hold the programs');
      const agentPids = processesHolding(ids);
      await sessions.disconnectAll();
      await waitFor('programs unloaded after disconnect', () => programsLeftSince(programsBefore, agentPids).length === 0);
      assert.equal(sessions.state('one')?.status, 'disconnected');
      const again = await sessions.client('one');
      assert.deepEqual((await again.request('sessions', {})).sessions, [], 'a reconnect starts clean');
      await sessions.disconnectAll();
    } finally {
      await second.stop();
    }
  });
});
