// Test support for the verify kernel tests: the agent built from source (once per process) so `node agent.js` runs as
// shipped, a throw-away cache home (its background builds waited for at exit), loaded BPF program ids, prerequisites.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { waitForBackgroundWork } from '../background-work';

export const repoRoot = resolve(__dirname, '..', '..', '..');

// Generated vmlinux.h files go to a throw-away cache for this test process, so ~/.cache stays as it was.
const cacheHome = mkdtempSync(join(os.tmpdir(), 'ebpf-test-cache-'));
process.env.XDG_CACHE_HOME = cacheHome;
process.on('exit', () => {
  waitForBackgroundWork(cacheHome);
  rmSync(cacheHome, { recursive: true, force: true });
});

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
export { waitForBackgroundWork } from '../background-work';
export { loadedProgramIds } from '../loaded-programs';
