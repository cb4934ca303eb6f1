// Test support for the verify kernel tests: the agent built from source (once per process) so `node agent.js` runs as
// shipped, a throw-away cache home (its background builds waited for at exit), loaded BPF program ids, prerequisites.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

export const repoRoot = resolve(__dirname, '..', '..', '..');

// Generated vmlinux.h files go to a throw-away cache for this test process, so ~/.cache stays as it was.
const cacheHome = mkdtempSync(join(os.tmpdir(), 'ebpf-test-cache-'));
process.env.XDG_CACHE_HOME = cacheHome;
process.on('exit', () => {
  waitForBackgroundWork(cacheHome);
  rmSync(cacheHome, { recursive: true, force: true });
});

/**
 * Waits (synchronously: it also runs at exit) until no vmlinux.h generation or precompile a verify started in the background
 * still holds its lock under `root`, so none is left running once its cache is removed (a hang guard of 2 minutes).
 */
export function waitForBackgroundWork(root: string): void {
  const deadline = Date.now() + 120_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const busy = () => readdirSync(root, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('.pch.building') || f.endsWith('generating.lock'));
  while (busy() && Date.now() < deadline) Atomics.wait(pause, 0, 0, 100);
}
export const probesDir = join(repoRoot, 'test', 'fixtures', 'verifier-probes');

let bundle: string | undefined;

/**
 * The agent built from the current sources, synchronously (other kernel tests call this at module level),
 * into .cache/test-agent/<pid>/ like test/kernel/build-test-agent.ts; removed when the process exits.
 */
export function agentBundle(): string {
  if (!bundle) {
    const dir = join(repoRoot, '.cache', 'test-agent', `verify-${process.pid}`);
    bundle = join(dir, 'agent.js');
    buildSync({ entryPoints: [join(repoRoot, 'agent', 'src', 'agent.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node18', external: ['koffi'], outfile: bundle, logLevel: 'warning' });
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return bundle;
}

export { missingPrerequisite, skipUnlessReady } from '../kernel-prerequisites';
export { loadedProgramIds } from '../loaded-programs';
