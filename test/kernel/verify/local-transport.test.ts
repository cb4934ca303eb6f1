// The local transport as a user who is not root: `sudo -n` refuses, and the user gets one message saying what
// to configure, quickly, instead of a hang. Runs a real node process as `nobody` through runuser.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
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
  const started = Date.now();
  const run = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 25_000 });
  assert.equal(run.status, 0, run.stderr);
  const out = run.stdout.trim();
  assert.match(out, /^ESUDO .*sudo -n` refused.*password is required/);
  assert.match(out, new RegExp(`nobody ALL=\\(root\\) NOPASSWD: ${process.execPath} ${agentBundle().replace(/[.]/g, '\\.')}`));
  assert.equal(out.split('\n').length, 1, 'one message');
  assert.ok(Date.now() - started < 20_000, 'no hang');
});
