// Checks that README.md's settings and commands tables match package.json (scripts/gen-docs-tables.mjs
// --check), and that the generator fills the markers, keeps the rest of the file, and refuses a README without markers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const script = join(root, 'scripts', 'gen-docs-tables.mjs');

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function withTempDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'docs-tables-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("README.md's settings and commands tables are current with package.json", () => {
  const result = run('--check');
  assert.equal(result.status, 0, result.stderr);
});

test('the generator fills both tables from package.json and leaves the rest of the README alone', () => {
  withTempDir((dir) => {
    const readme = join(dir, 'README.md');
    const before = '# Title\n\nIntro.\n\n<!-- settings:start -->\nstale\n<!-- settings:end -->\n\nMiddle.\n\n<!-- commands:start -->\n<!-- commands:end -->\n\nEnd.\n';
    writeFileSync(readme, before);
    assert.equal(run('--readme', readme, '--check').status, 1, 'a stale README must fail --check');
    const write = run('--readme', readme);
    assert.equal(write.status, 0, write.stderr);
    const after = readFileSync(readme, 'utf8');
    assert.equal(run('--readme', readme, '--check').status, 0);
    assert.ok(after.startsWith('# Title\n\nIntro.\n\n<!-- settings:start -->\n| Setting |'));
    assert.ok(after.includes('<!-- settings:end -->\n\nMiddle.\n\n<!-- commands:start -->\n| Command | ID |'));
    assert.ok(after.endsWith('<!-- commands:end -->\n\nEnd.\n'));
    assert.ok(!after.includes('stale'));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      contributes: { commands: { command: string; title: string; category?: string }[]; configuration: { properties: Record<string, unknown> } };
    };
    for (const c of pkg.contributes.commands) assert.ok(after.includes(`| ${c.category}: ${c.title} | \`${c.command}\` |`), `row for ${c.command}`);
    for (const key of Object.keys(pkg.contributes.configuration.properties)) assert.ok(after.includes(`| \`${key}\` |`), `row for ${key}`);
    assert.ok(after.includes('| `ebpfStudio.refreshIntervalMs` | number | `1000` |'));
    assert.ok(after.includes('| `ebpfStudio.includePaths` | string[] | `[]` |'));
  });
});

test('a README without the markers is refused with a message naming them', () => {
  withTempDir((dir) => {
    const readme = join(dir, 'README.md');
    writeFileSync(readme, '# Title\n\n<!-- settings:start -->\n<!-- settings:end -->\n');
    const result = run('--readme', readme);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /<!-- commands:start --> … <!-- commands:end -->/);
    assert.equal(readFileSync(readme, 'utf8'), '# Title\n\n<!-- settings:start -->\n<!-- settings:end -->\n', 'nothing written');
  });
});
