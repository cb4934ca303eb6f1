// scripts/run-tests.mjs stopped by SIGTERM or SIGINT: it ends every process the run started (one in the run's process
// group, one that left it for a group of its own) and removes its report folder. Runs the real runner on a test that hangs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../kernel/wait-for';

const runner = join(__dirname, '..', '..', 'scripts', 'run-tests.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'ebpf-studio-run-tests-signals-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A test that starts two sleeps, writes their PIDs to `pidFile`, and never ends. */
function hangingTest(pidFile: string) {
  return `import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
test('hangs', async () => {
  const inGroup = spawn('sleep', ['300'], { stdio: 'ignore' });
  const ownGroup = spawn('sleep', ['301'], { stdio: 'ignore', detached: true });
  writeFileSync(${JSON.stringify(pidFile)}, JSON.stringify([inGroup.pid, ownGroup.pid]));
  await new Promise(() => setInterval(() => {}, 1000));
});
`;
}

function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test(`${signal} ends every process the run started and removes the report folder`, { timeout: 120_000 }, async () => {
    const folder = join(scratch, signal);
    const runnerTmp = join(folder, 'tmp');
    mkdirSync(runnerTmp, { recursive: true });
    const pidFile = join(folder, 'pids.json');
    writeFileSync(join(folder, 'hangs.test.ts'), hangingTest(pidFile));
    // without NODE_TEST_CONTEXT, or the nested node --test would take itself for a subtest of this one and run nothing
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_TEST_CONTEXT'));
    const run = spawn(process.execPath, [runner, folder], { env: { ...env, TMPDIR: runnerTmp }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(run, 'exit');

    const pids = await waitFor('the hanging test to start its sleeps', () => (existsSync(pidFile) ? (JSON.parse(readFileSync(pidFile, 'utf8')) as number[]) : undefined), 60_000);
    assert.equal(pids.filter(isRunning).length, 2);
    const reports = () => readdirSync(runnerTmp).filter((name) => name.startsWith('ebpf-studio-test-report-'));
    assert.equal(reports().length, 1, 'the run has its report folder');

    run.kill(signal);
    const [code] = (await exited) as [number | null];
    // a process left behind holds the pipe open: this test must fail, not wait for it
    run.stderr.destroy();
    const left = pids.filter(isRunning);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    assert.equal(code, status, stderr);
    assert.match(stderr, new RegExp(`run-tests: ${signal}: stopping the test run`));
    assert.deepEqual(left, [], 'no process the run started is left');
    assert.deepEqual(reports(), [], 'the report folder is gone');
  });
}
