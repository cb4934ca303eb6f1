// Whether the kernel file systems BPF tools rely on are mounted where they belong (bpffs, tracefs, securityfs),
// read with statfs(2) on the mount point: a directory that exists is not yet a mount.
import { statfsSync } from 'node:fs';

/** The bpffs mount point libbpf and bpftool pin under. */
export const BPFFS_DIR = '/sys/fs/bpf';

/** f_type magic numbers from linux/magic.h. */
const MAGIC = { bpf: 0xcafe4a11, tracefs: 0x74726163, securityfs: 0x73636673 } as const;

export type KernelFilesystem = keyof typeof MAGIC;

/** True when `dir` is the root of a mounted file system of the given type. */
export function isMounted(type: KernelFilesystem, dir: string): boolean {
  try {
    return statfsSync(dir).type === MAGIC[type];
  } catch {
    return false;
  }
}

/** The command that mounts the file system at `dir` (what scripts/setup.sh runs). */
export function mountCommand(type: KernelFilesystem, dir: string): string {
  return `mount -t ${type} ${type} ${dir}`;
}
