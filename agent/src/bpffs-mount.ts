// Whether bpffs is mounted at /sys/fs/bpf on the target (statfs on the mount point: a directory that exists is not yet
// a mount), and the one sentence that says it is not and how to mount it. Talks to the target's file system.
import { statfsSync } from 'node:fs';

export const BPFFS = '/sys/fs/bpf';
const BPF_FS_MAGIC = 0xcafe4a11;

export const BPFFS_MISSING = `bpffs is not mounted at ${BPFFS}; mount it with: mount -t bpf bpf ${BPFFS}`;

export function bpffsMounted(): boolean {
  try {
    return statfsSync(BPFFS).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/** Whether a path lies in /sys/fs/bpf, where a missing object may just mean a missing mount. */
export function underBpffs(path: string): boolean {
  return path === BPFFS || path.startsWith(`${BPFFS}/`);
}
