// Test support for the verify kernel tests: the agent bundle built from source (once per test process) so
// `node agent.js` runs exactly as shipped, loaded BPF program ids from bpftool, and the prerequisites check.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildTestAgent } from '../build-test-agent';

export const repoRoot = resolve(__dirname, '..', '..', '..');
export const probesDir = join(repoRoot, 'test', 'fixtures', 'verifier-probes');

let bundle: Promise<string> | undefined;

/** The agent built from the current sources (test/kernel/build-test-agent.ts), removed when the process exits. */
export function agentBundle(): Promise<string> {
  bundle ??= buildTestAgent().then((built) => {
    process.on('exit', () => built.remove());
    return built.path;
  });
  return bundle;
}

export function loadedProgramIds(): Set<number> {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  return new Set((JSON.parse(out) as { id: number }[]).map((p) => p.id));
}

/** What the kernel tests need; undefined when all is there. */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'root (loading BPF programs needs CAP_BPF)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'kernel BTF (/sys/kernel/btf/vmlinux)';
  for (const tool of ['clang-19', 'bpftool', 'unshare']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return tool;
    }
  }
  return undefined;
}

/** Throws under CI (a kernel test must not skip there); else returns the skip reason or false. */
export function skipUnlessReady(): string | false {
  const missing = missingPrerequisite();
  if (missing && process.env.CI === 'true') throw new Error(`kernel tests need ${missing}`);
  return missing ? `needs ${missing}` : false;
}
