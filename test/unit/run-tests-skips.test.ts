// scripts/run-tests.mjs under CI=true fails a run in which any test skipped, naming each with its reason; outside CI a
// skip is reported but not fatal. Runs the real runner on a throw-away folder of tests.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runner = join(__dirname, '..', '..', 'scripts', 'run-tests.mjs');
const folder = mkdtempSync(join(tmpdir(), 'ebpf-studio-run-tests-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function runTests(file: string, ci: boolean) {
  writeFileSync(join(folder, 'probe.test.ts'), file);
  // without NODE_TEST_CONTEXT, or the nested node --test would take itself for a subtest of this one and run nothing
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_TEST_CONTEXT' && name !== 'CI'));
  return spawnSync(process.execPath, [runner, folder], { encoding: 'utf8', env: ci ? { ...env, CI: 'true' } : env, timeout: 120_000 });
}

const SKIPPING = `import { test, describe } from 'node:test';
test('runs', () => {});
describe('a suite', { skip: 'needs a unicorn' }, () => { test('inside', () => {}); });
test('skips itself', (t) => { t.skip('no horn here'); });
`;

test('under CI=true a skipped test or suite fails the run, each named with its reason', () => {
  const run = runTests(SKIPPING, true);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /CI=true, and 2 test\(s\) were skipped/);
  assert.match(run.stderr, /a suite # SKIP needs a unicorn/);
  assert.match(run.stderr, /skips itself # SKIP no horn here/);
});

test('outside CI the same run passes; under CI a run without skips passes', () => {
  assert.equal(runTests(SKIPPING, false).status, 0);
  const clean = runTests("import { test } from 'node:test';\ntest('runs', () => {});\n", true);
  assert.equal(clean.status, 0, clean.stderr);
});
