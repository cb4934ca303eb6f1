// Maps a kernel's machine name (uname -m, the agent's hello.arch) to what a BPF compile needs:
// the -D__TARGET_ARCH_<x> value bpf_tracing.h expects, and the Debian multiarch include folder.
import { existsSync } from 'node:fs';
import os from 'node:os';

const TARGET_ARCH: Record<string, string> = {
  x86_64: 'x86',
  i686: 'x86',
  aarch64: 'arm64',
  arm64: 'arm64',
  armv7l: 'arm',
  s390x: 's390',
  ppc64le: 'powerpc',
  ppc64: 'powerpc',
  riscv64: 'riscv',
  loongarch64: 'loongarch',
  mips64: 'mips',
};

const MULTIARCH: Record<string, string> = {
  x86_64: 'x86_64-linux-gnu',
  aarch64: 'aarch64-linux-gnu',
  armv7l: 'arm-linux-gnueabihf',
  s390x: 's390x-linux-gnu',
  ppc64le: 'powerpc64le-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
  loongarch64: 'loongarch64-linux-gnu',
};

/** The __TARGET_ARCH_ suffix for a machine name; unknown machines pass through unchanged. */
export function bpfTargetArch(machine: string): string {
  return TARGET_ARCH[machine] ?? machine;
}

/** /usr/include/<multiarch> for the target's machine if installed here, else this machine's (for <asm/types.h>). */
export function multiarchIncludeDir(machine: string): string | undefined {
  for (const m of [machine, os.machine()]) {
    const dir = MULTIARCH[m] ? `/usr/include/${MULTIARCH[m]}` : undefined;
    if (dir && existsSync(dir)) return dir;
  }
  return undefined;
}
