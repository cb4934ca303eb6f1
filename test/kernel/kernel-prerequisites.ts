// What kernel tests that compile and verify need (root, kernel BTF, clang-19, bpftool, unshare), and the skip
// decision built on it: a reason outside CI, a thrown error in CI, where a kernel test must never skip.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The first missing prerequisite, or undefined when all are there. */
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
export function skipUnless(missing: string | undefined, tests: string): string | false {
  if (missing && process.env.CI === 'true') throw new Error(`${tests} need ${missing.replace(/^needs /, '')}`);
  return missing ? (missing.startsWith('needs ') ? missing : `needs ${missing}`) : false;
}

/** skipUnless for the prerequisites every compiling and verifying kernel test shares. */
export function skipUnlessReady(tests = 'kernel tests'): string | false {
  return skipUnless(missingPrerequisite(), tests);
}
