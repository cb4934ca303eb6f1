// Runs every *.test.ts under the given folders with node's test runner (TypeScript through tsx),
// and fails the run if it leaves a BPF program loaded that was not loaded before it.
import { spawnSync, execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

function loadedProgramIds() {
  try {
    const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return new Set(JSON.parse(out).map((p) => p.id));
  } catch {
    return new Set();
  }
}

const dirs = process.argv.slice(2);
const files = dirs.flatMap(findTests).sort();
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ')}`);
  process.exit(1);
}
const before = loadedProgramIds();
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
const leaked = [...loadedProgramIds()].filter((id) => !before.has(id));
if (leaked.length > 0) {
  console.error(`tests left BPF programs loaded: ids ${leaked.join(', ')}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
