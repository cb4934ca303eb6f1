// A temporary user whose sudo asks for a password (created here with a real password and sudoers file, removed afterwards):
// the local transport asks, checks the answer with sudo, installs into a scratch root and launches; a wrong password installs
// nothing; the CLI asks on a real terminal (a pty) without echo; the doctor's privileges fix says to type it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { DoctorCheck } from '../../engine/targets/local-doctor';
import { agentBundle, repoRoot } from './verify/agent-under-test';
import { missingPrerequisite, skipUnless } from './kernel-prerequisites';

const cli = join(repoRoot, 'dist', 'cli.js');
const missingTool = ['useradd', 'userdel', 'chpasswd', 'visudo', 'sudo', 'runuser', 'python3'].find((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const skip = skipUnless(missingPrerequisite() ?? missingTool ?? (existsSync(cli) ? undefined : 'the built CLI (npm run build)'), 'the sudo-password user tests');

const user = `ebpfpwd${process.pid % 100000}`;
const password = `Pw-${process.pid}-${Date.now()}`;
const sudoers = `/etc/sudoers.d/ebpf-studio-test-${user}`;
let scratch = '';
let transport = '';

before(() => {
  if (skip) return;
  execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', user]);
  execFileSync('chpasswd', { input: `${user}:${password}\n` });
  writeFileSync(sudoers, `${user} ALL=(root) ALL\n`, { mode: 0o440 });
  execFileSync('visudo', ['-c', '-q', '-f', sudoers]);
  // root-owned and searchable by the user: the install roots (which must be root-owned) live below it
  scratch = mkdtempSync(join(tmpdir(), 'ebpf-studio-sudo-password-'));
  chmodSync(scratch, 0o755);
  // bundled (not run through tsx) so the user's process writes no cache anywhere
  transport = join(repoRoot, 'dist', `local-transport.password-test-${process.pid}.js`);
  buildSync({ entryPoints: [join(repoRoot, 'engine', 'targets', 'local-transport.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: transport, logLevel: 'warning' });
});

after(() => {
  if (skip) return;
  rmSync(sudoers, { force: true });
  spawnSync('userdel', ['--remove', user], { encoding: 'utf8' });
  rmSync(scratch, { recursive: true, force: true });
  rmSync(transport, { force: true });
});

/** Connects as the user with scripted answers to the password question (given on stdin, never on a command line). */
function connectAsUser(installRoot: string, answers: string[]) {
  const script =
    `const answers = JSON.parse(require('fs').readFileSync(0, 'utf8')); const asked = [];` +
    `require(${JSON.stringify(transport)}).connectLocalAgent({ agentPath: ${JSON.stringify(agentBundle())}, installRoot: ${JSON.stringify(installRoot)}, log: (l) => console.error(l),` +
    ` sudoPassword: async (q) => (asked.push(q.target + ' ' + q.user + ' ' + q.attempt), answers[q.attempt - 1]) })` +
    `.then(async (c) => { const h = await c.request('hello', {}); console.log(JSON.stringify({ asked, uid: h.uid })); await c.close(); },` +
    ` (e) => console.log(JSON.stringify({ asked, error: e.code + ' ' + e.message })))`;
  const run = spawnSync('runuser', ['-u', user, '--', process.execPath, '-e', script], { cwd: scratch, input: JSON.stringify(answers), encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  return { ...(JSON.parse(run.stdout.trim()) as { asked: string[]; uid?: number; error?: string }), log: run.stderr };
}

/** Install staging folders this test's user owns (another run's user may be staging at the same time; its folder may go meanwhile). */
const stagingFolders = () => {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
  return readdirSync(tmpdir()).filter((name) => name.startsWith('ebpf-studio-install-') && statSync(join(tmpdir(), name), { throwIfNoEntry: false })?.uid === uid);
};

test('a password-sudo user: a wrong password installs nothing; the right one installs and starts the agent; a changed install is installed again', { skip, timeout: 300_000 }, () => {
  const installRoot = join(scratch, 'engine-root');
  const wrong = connectAsUser(installRoot, ['wrong-1', 'wrong-2', 'wrong-3']);
  assert.deepEqual(wrong.asked, [`local ${user} 1`, `local ${user} 2`, `local ${user} 3`], 'asked again after each wrong answer, three times');
  assert.match(wrong.error ?? '', /^ESUDO local: sudo did not accept the password of ebpfpwd\d+ \(3 tries\); nothing was installed or started\. Loading BPF programs needs root: allow it without a password/);
  assert.equal(wrong.error?.split('\n').length, 1, 'one message');
  assert.deepEqual(existsSync(join(installRoot, 'agent')) ? readdirSync(join(installRoot, 'agent')) : [], [], 'nothing installed, not even a partial copy');
  assert.deepEqual(stagingFolders(), [], 'no staging folder left behind');

  const right = connectAsUser(installRoot, ['wrong', password]);
  assert.equal(right.error, undefined, right.log);
  assert.deepEqual(right.asked, [`local ${user} 1`, `local ${user} 2`], 'asked once more after the wrong answer, then not again for the launch');
  assert.equal(right.uid, 0, 'the agent runs as root');
  const [dir] = readdirSync(join(installRoot, 'agent')).filter((d) => !d.startsWith('.'));
  for (const file of ['agent.js', 'run-agent', 'SHA256SUMS']) assert.equal(statSync(join(installRoot, 'agent', dir, file)).uid, 0, `${file} owned by root`);

  const marker = join(scratch, 'tampered-code-ran');
  appendFileSync(join(installRoot, 'agent', dir, 'agent.js'), `\nrequire('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
  const again = connectAsUser(installRoot, [password]);
  assert.equal(again.uid, 0, again.log);
  assert.match(again.log, /does not match its SHA256SUMS.*installing the agent again/);
  assert.deepEqual(again.asked, [`local ${user} 1`], 'one question for the launch and the new install');
  assert.equal(existsSync(marker), false, 'the changed agent.js never ran');

  assert.notEqual(spawnSync('runuser', ['-u', user, '--', 'sudo', '-n', 'true']).status, 0, 'sudo keeps no credentials from these starts');
  const grep = spawnSync('grep', ['-rl', '--', password, join('/home', user), installRoot], { encoding: 'utf8' });
  assert.equal(grep.status, 1, `the password is in no file: ${grep.stdout}${grep.stderr}`);
});

/** Runs the CLI as the user on a pseudo-terminal, typing `typed` after sudo's question; the whole terminal transcript. */
function cliOnTerminal(args: string[], env: Record<string, string>, typed: string): { transcript: string; status: number } {
  const pty = [
    'import os, pty, select, sys',
    'typed = sys.stdin.read()',
    'pid, fd = pty.fork()',
    'if pid == 0: os.execvp(sys.argv[1], sys.argv[1:])',
    'out, sent = b"", False',
    'while True:',
    '    if not select.select([fd], [], [], 120)[0]: break',
    '    try: data = os.read(fd, 4096)',
    '    except OSError: break',
    '    if not data: break',
    '    out += data',
    '    if not sent and b"[sudo] password for" in out: os.write(fd, typed.encode() + b"\\r"); sent = True',
    'sys.stdout.write(out.decode("utf8", "replace"))',
    'sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
  ].join('\n');
  const run = spawnSync('python3', ['-c', pty, 'runuser', '-u', user, '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, cli, ...args], { cwd: repoRoot, input: typed, encoding: 'utf8', timeout: 240_000 });
  return { transcript: run.stdout, status: run.status ?? -1 };
}

test('the CLI as a password-sudo user: the doctor says to type the password; asked on the terminal without echo, it installs and starts the agent', { skip, timeout: 300_000 }, () => {
  const installRoot = join(scratch, 'cli-root');
  const { transcript, status } = cliOnTerminal(['targets', 'probe'], { EBPF_STUDIO_INSTALL_ROOT: installRoot }, password);
  assert.match(transcript, new RegExp(`\\[sudo\\] password for ${user}: `), transcript);
  assert.equal(transcript.includes(password), false, 'the password was not echoed');
  const report = JSON.parse(transcript.split(/\r?\n/).filter((line) => line.startsWith('{')).at(-1) ?? '{}') as { checks?: DoctorCheck[]; kernelRelease?: string; error?: string };
  assert.equal(report.error, undefined, transcript);
  assert.ok(report.kernelRelease, 'the agent answered through sudo with the typed password');
  const privileges = report.checks?.find((c) => c.name === 'privileges');
  assert.equal(privileges?.status, 'limited', transcript);
  assert.match(privileges?.fix ?? '', /^Type your sudo password when asked, or let sudo start the root-owned agent launcher without one .*: echo '\S+ ALL=\(root\) NOPASSWD: \S+\/agent\/\*\/run-agent' \| sudo tee \/etc\/sudoers.d\/ebpf-studio/);
  assert.equal(status, 0, transcript);
  assert.ok(readdirSync(join(installRoot, 'agent')).some((d) => !d.startsWith('.')), 'installed into the scratch root');
});
