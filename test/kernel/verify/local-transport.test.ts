// The local transport as a user who is not root: a refused `sudo -n` gives one message naming the launcher for sudoers;
// with sudo, the agent runs from a root-owned, hash-checked install, never from the user's files. Real node processes via runuser.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { agentBundle, repoRoot, skipUnlessReady } from './agent-under-test';

function runuserMissing(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v runuser && command -v sudo'], { stdio: 'ignore' });
    execFileSync('runuser', ['-u', 'nobody', '--', 'sudo', '-n', 'true'], { stdio: 'ignore' });
    return 'a user (nobody) whom sudo refuses without a password';
  } catch (err) {
    return (err as { status?: number }).status === 1 ? undefined : 'runuser and sudo';
  }
}

const missing = skipUnlessReady() || runuserMissing();
if (missing && process.env.CI === 'true') throw new Error(`local-transport test needs ${missing}`);

test('a refused sudo -n becomes one message naming the sudoers line to add', { skip: missing || false, timeout: 30_000 }, async () => {
  // Bundled (not run through tsx) so the unprivileged process writes no cache anywhere.
  const transport = join(repoRoot, 'dist', `local-transport.test-${process.pid}.js`);
  buildSync({ entryPoints: [join(repoRoot, 'engine', 'targets', 'local-transport.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: transport, logLevel: 'warning' });
  after(() => rmSync(transport, { force: true }));
  const script = `require(${JSON.stringify(transport)}).connectLocalAgent({ agentPath: ${JSON.stringify(agentBundle())} }).then(() => console.log('connected'), (e) => console.log(e.code + ' ' + e.message))`;
  const run = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 25_000 });
  assert.equal(run.status, 0, run.stderr);
  const out = run.stdout.trim();
  assert.match(out, /^ESUDO .*sudo -n` refused.*password is required/);
  assert.ok(out.includes('`nobody ALL=(root) NOPASSWD: /var/lib/ebpf-studio/agent/*/run-agent`'), out);
  assert.equal(out.split('\n').length, 1, 'one message');
});

test('a user with sudo runs the agent from a root-owned install checked by sha256; a changed copy is installed again, never run', { skip: missing || false, timeout: 60_000 }, async () => {
  const user = `ebpflt${process.pid % 100000}`;
  const sudoers = `/etc/sudoers.d/ebpf-studio-local-${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'ebpf-studio-local-'));
  chmodSync(work, 0o755);
  const installRoot = join(work, 'install');
  const transport = join(repoRoot, 'dist', `local-transport.sudo-test-${process.pid}.js`);
  buildSync({ entryPoints: [join(repoRoot, 'engine', 'targets', 'local-transport.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: transport, logLevel: 'warning' });
  execFileSync('useradd', ['--shell', '/bin/sh', user]);
  try {
    writeFileSync(sudoers, `${user} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
    const script =
      `require(${JSON.stringify(transport)}).connectLocalAgent({ agentPath: ${JSON.stringify(agentBundle())}, installRoot: ${JSON.stringify(installRoot)} })` +
      `.then(async (c) => { const h = await c.request('hello', {}); console.log('uid ' + h.uid); await c.close(); }, (e) => console.log(e.code + ' ' + e.message))`;
    const connect = () => spawnSync('runuser', ['-u', user, '--', process.execPath, '-e', script], { cwd: work, encoding: 'utf8', timeout: 40_000 });
    const first = connect();
    assert.equal(first.stdout.trim(), 'uid 0', first.stderr);
    const [dir] = readdirSync(join(installRoot, 'agent')).filter((d) => !d.startsWith('.'));
    for (const file of ['agent.js', 'run-agent', 'SHA256SUMS']) {
      const st = statSync(join(installRoot, 'agent', dir, file));
      assert.equal(st.uid, 0, `${file} owned by root`);
      assert.equal(st.mode & 0o022, 0, `${file} writable by root only`);
    }
    const marker = join(work, 'tampered-code-ran');
    appendFileSync(join(installRoot, 'agent', dir, 'agent.js'), `\nrequire('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    const second = connect();
    assert.equal(second.stdout.trim(), 'uid 0', second.stderr);
    assert.equal(existsSync(marker), false, 'the changed agent.js never ran');
  } finally {
    rmSync(sudoers, { force: true });
    execFileSync('userdel', [user], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
    rmSync(transport, { force: true });
  }
});
