// Checks that every docs/rules page's Bad/Good sections match the rule's example files
// (scripts/gen-rule-docs.ts --check), and that the generator rewrites only the marked section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = join(__dirname, '..', '..', 'scripts', 'gen-rule-docs.ts');

function run(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8' });
}

test("every rule page's Bad/Good sections are current with its example files", () => {
  const result = run('--check');
  assert.equal(result.status, 0, result.stderr);
});

test('the generator writes the examples between the markers, keeps the prose, and --check finds a stale page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rule-docs-'));
  try {
    const docs = join(dir, 'docs');
    const examples = join(dir, 'examples', 'demo-rule');
    mkdirSync(docs);
    mkdirSync(examples, { recursive: true });
    writeFileSync(join(examples, 'bad-1.bpf.c'), '// target kernel: 5.4\nint x = 1; // <- flagged\n');
    writeFileSync(join(examples, 'good-1.bpf.c'), 'int x;\n');
    const page = join(docs, 'demo-rule.md');
    writeFileSync(page, '# demo-rule\n\nWhy.\n\n<!-- examples:start -->\nstale\n<!-- examples:end -->\n\nAfter.\n');
    const args = ['--docs', docs, '--examples', join(dir, 'examples')];
    assert.equal(run(...args, '--check').status, 1, 'a stale page must fail --check');
    assert.equal(readFileSync(page, 'utf8').includes('stale'), true, '--check writes nothing');
    const write = run(...args);
    assert.equal(write.status, 0, write.stderr);
    const after = readFileSync(page, 'utf8');
    assert.ok(after.startsWith('# demo-rule\n\nWhy.\n\n<!-- examples:start -->\n'));
    assert.ok(after.endsWith('<!-- examples:end -->\n\nAfter.\n'));
    assert.ok(after.includes('## Bad\n') && after.includes('```c\n// target kernel: 5.4\nint x = 1; // <- flagged\n```\n'));
    assert.ok(after.includes('## Good\n\n```c\nint x;\n```\n'));
    assert.ok(!after.includes('stale'));
    assert.equal(run(...args, '--check').status, 0);

    writeFileSync(join(examples, 'bad-2.bpf.c'), 'int y = 2;\n');
    const unmarked = run(...args);
    assert.equal(unmarked.status, 1);
    assert.match(unmarked.stderr, /demo-rule\/bad-2\.bpf\.c: a bad example marks exactly one line/);
    rmSync(join(examples, 'bad-2.bpf.c'));

    writeFileSync(page, '# demo-rule\n');
    const noMarkers = run(...args);
    assert.equal(noMarkers.status, 1);
    assert.match(noMarkers.stderr, /no <!-- examples:start --> … <!-- examples:end --> markers/);
    assert.equal(readFileSync(page, 'utf8'), '# demo-rule\n', 'nothing written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
