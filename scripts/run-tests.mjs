// Runs every *.test.ts under the given folders with node's test runner (TypeScript through tsx), as root (through
// sudo when started by a user who has it), and fails the run if it leaves a BPF program loaded that was not before.
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

// The kernel tests load BPF programs in this process tree: a user with sudo gets the same run as root.
if (process.getuid?.() !== 0 && spawnSync('sh', ['-c', 'command -v sudo'], { stdio: 'ignore' }).status === 0) {
  const asRoot = spawnSync('sudo', ['--preserve-env', 'env', `PATH=${process.env.PATH}`, process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(asRoot.status ?? 1);
}

const dirs = process.argv.slice(2);
const files = dirs.flatMap(findTests).sort();
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ')}`);
  process.exit(1);
}
const before = loadedProgramIds();
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
// Another user of the machine may load a program for a moment meanwhile: only what is still loaded a few seconds
// after the run counts (a program this run leaked stays).
let leaked = [...loadedProgramIds()].filter((id) => !before.has(id));
if (leaked.length > 0) {
  spawnSync('sleep', ['5']);
  const still = loadedProgramIds();
  leaked = leaked.filter((id) => still.has(id));
}
if (leaked.length > 0) {
  console.error(`tests left BPF programs loaded: ids ${leaked.join(', ')}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
