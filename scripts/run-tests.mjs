// Runs every *.test.ts under the given folders with node's test runner (TypeScript through tsx), as root (through
// sudo when started by a user who has it), and fails the run if it leaves a BPF program loaded that was not before,
// or, under CI=true, if any test was skipped (each named with its reason). Stopped by SIGINT, SIGTERM or SIGHUP, it
// ends every process the run started and removes its report folder. Run through sudo, it gives the user back what
// the run created as root in their cache and checkout.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopProcessTree } from './process-tree.mjs';
import { returnFilesToSudoUser } from './sudo-user-files.mjs';

const checkout = join(dirname(fileURLToPath(import.meta.url)), '..');

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

/** Ids of the BPF programs each process holds (a program or link fd: `prog_id:` in /proc/<pid>/fdinfo), by command line. */
function programHolders() {
  const holders = new Map();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let commandLine, fds;
    try {
      commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue; // the process ended
    }
    for (const fd of fds) {
      try {
        const id = /^prog_id:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
        if (id) holders.set(Number(id), [...(holders.get(Number(id)) ?? []), commandLine]);
      } catch {
        // the fd was closed meanwhile
      }
    }
  }
  return holders;
}

// The kernel tests load BPF programs in this process tree: a user with sudo gets the same run as root.
if (process.getuid?.() !== 0 && spawnSync('sh', ['-c', 'command -v sudo'], { stdio: 'ignore' }).status === 0) {
  const asRoot = spawn('sudo', ['--preserve-env', 'env', `PATH=${process.env.PATH}`, process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
  // sudo relays these to the root run, which then cleans up after itself
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(name, () => asRoot.kill(name));
  const [status] = await once(asRoot, 'exit');
  process.exit(status ?? 1);
}

const dirs = process.argv.slice(2);
const files = dirs.flatMap(findTests).sort();
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ')}`);
  process.exit(1);
}
const before = loadedProgramIds();
// the spec report for people, and a TAP copy to find skipped tests in
const reportDir = mkdtempSync(join(tmpdir(), 'ebpf-studio-test-report-'));
const tap = join(reportDir, 'report.tap');
// In its own process group, so a terminal's Ctrl-C reaches this runner alone, which then stops the run's whole tree
// (the test files' processes and what they started, even in groups of their own) before removing the report.
const run = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
let stopping; // set by the first signal: ends the tree, removes the report and exits
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(name, () => {
    stopping ??= (async () => {
      console.error(`run-tests: ${name}: stopping the test run (process ${run.pid} and every process it started)`);
      await stopProcessTree(run.pid);
      rmSync(reportDir, { recursive: true, force: true });
      returnFilesToSudoUser(checkout);
      process.exit(128 + constants.signals[name]);
    })();
  });
}
const [runStatus] = await once(run, 'exit');
if (stopping) await stopping;
let skipped;
try {
  skipped = readFileSync(tap, 'utf8').split('\n').filter((line) => /^\s*ok \d+ - .* # (SKIP|TODO)\b/.test(line)).map((line) => line.trim().replace(/^ok \d+ - /, ''));
} finally {
  rmSync(reportDir, { recursive: true, force: true });
  returnFilesToSudoUser(checkout);
}
if (skipped.length > 0 && process.env.CI === 'true') {
  console.error(`CI=true, and ${skipped.length} test(s) were skipped; a skip here means a missing prerequisite the set-up must provide:\n  ${skipped.join('\n  ')}`);
  process.exit(1);
}
// Another user of the machine may load a program for a moment meanwhile: only what is still loaded a few seconds
// after the run counts (a program this run leaked stays). A program only processes outside this checkout hold (another
// test run's agent, from its own clone) is theirs; one nobody holds (pinned, attached without an fd) or a process of
// this checkout still holds is this run's.
let leaked = [...loadedProgramIds()].filter((id) => !before.has(id));
if (leaked.length > 0) {
  spawnSync('sleep', ['5']);
  const still = loadedProgramIds();
  const holders = programHolders();
  leaked = leaked.filter((id) => still.has(id) && (holders.get(id) ?? [`${checkout}/`]).some((commandLine) => commandLine.includes(`${checkout}/`)));
}
if (leaked.length > 0) {
  console.error(`tests left BPF programs loaded: ids ${leaked.join(', ')}`);
  process.exit(1);
}
process.exit(runStatus ?? 1);
