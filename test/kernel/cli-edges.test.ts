// The CLI at its edges, as users run it: inputs that are not regular files or not text, numbers out of range, a blank
// --target, runtime failures: each ends with exit status 2, one line on stderr and nothing (or valid JSON) on stdout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentBundle, repoRoot, skipUnlessReady } from './verify/agent-under-test';

const skip = skipUnlessReady('CLI edge tests');
const CLI = join(repoRoot, 'cli', 'src', 'cli.ts');
const PROBE = join(repoRoot, 'test', 'fixtures', 'agent-input', 'syscall-counter.bpf.c');

/** Runs the CLI to its end (a generous hang guard kills it: a hang is a failure). */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: repoRoot, env: { ...process.env, EBPF_STUDIO_AGENT: agentBundle() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Exit 2, nothing on stdout, and one line on stderr (a usage text may follow a blank line) matching `message`. */
function toolFailure(result: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  assert.equal(result.code, 2, `exit status 2; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '', 'nothing on stdout');
  const first = result.stderr.split('\n\n')[0].trimEnd();
  assert.match(first, message);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

describe('CLI edges', { skip }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-edges-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('run on a FIFO is refused at once (it blocked in readFileSync and ignored SIGTERM)', async () => {
    const fifo = join(dir, 'probe.bpf.c');
    execFileSync('mkfifo', [fifo]);
    toolFailure(await cli(['run', fifo, '--duration', '1']), /^ebpf-studio run: .*probe\.bpf\.c is not a regular file/);
  });

  test('check on random bytes is refused (it said "0 errors"), and on a FIFO too', async () => {
    const junk = join(dir, 'junk.bpf.c');
    writeFileSync(junk, Buffer.concat([randomBytes(4096), Buffer.from([0])]));
    toolFailure(await cli(['check', junk]), /^ebpf-studio check: cannot read .*junk\.bpf\.c: not C source text/);
    const fifo = join(dir, 'check.bpf.c');
    execFileSync('mkfifo', [fifo]);
    toolFailure(await cli(['check', fifo]), /^ebpf-studio check: cannot read .*check\.bpf\.c: not a regular file/);
  });

  test('numbers are validated before anything runs: --param pid=abc (it traced every process), frequencyHz, --interval 3000000, --duration 0', async () => {
    toolFailure(await cli(['run', PROBE, '--param', 'pid=abc']), /^ebpf-studio run: --param pid takes a whole number from -1 to 4194304, not "abc"/);
    toolFailure(await cli(['run', PROBE, '--param', 'frequencyHz=1e9']), /--param frequencyHz takes a whole number from 1 to 100000/);
    toolFailure(await cli(['run', PROBE, '--interval', '3000000']), /--interval takes a number of seconds from 0\.001 to 2147483, not "3000000"/);
    toolFailure(await cli(['run', PROBE, '--duration', '0']), /--duration takes a number of seconds/);
  });

  test('maps dump --id 4294969270 is refused (it wrapped to another map); a missing map leaves stdout empty (it printed "[")', async () => {
    toolFailure(await cli(['maps', 'dump', '--id', '4294969270']), /--id needs a map id from 1 to 4294967295, not "4294969270"/);
    toolFailure(await cli(['maps', 'dump', '--id', '4294967295']), /^ebpf-studio maps dump: Map gone: map id 4294967295 no longer exists/);
  });

  test("--target ' ' is refused (it ran locally)", async () => {
    toolFailure(await cli(['run', PROBE, '--target', ' ', '--duration', '1']), /^ebpf-studio run: " " names no target/);
  });

  test('SIGTERM stops a run: it samples once more, detaches and exits 0 with valid JSON lines on stdout', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', PROBE, '--format', 'json', '--interval', '0.2'], { cwd: repoRoot, env: { ...process.env, EBPF_STUDIO_AGENT: agentBundle() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const sampled = new Promise<void>((resolve) => child.stdout.setEncoding('utf8').on('data', (t: string) => ((stdout += t), stdout.includes('\n') && resolve())));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    await sampled;
    child.kill('SIGTERM');
    const code = await exited;
    clearTimeout(guard);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /stopping: interrupted/);
    assert.match(stderr, /detached from local/);
    for (const line of stdout.trim().split('\n')) assert.ok(JSON.parse(line).programs, line);
  });

  test('a runtime failure (clang rejects the probe) exits 2, not 1', async () => {
    const broken = join(dir, 'broken.bpf.c');
    writeFileSync(broken, 'int f( {\n');
    const result = await cli(['run', broken, '--duration', '1']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});
