// Maps declared with LIBBPF_PIN_BY_NAME are pinned per session under /sys/fs/bpf/ebpf-studio-<agent pid>-<session>
// (libbpf's pin_root_path), never reused across sessions, and unpinned on detach, at agent exit, or by the next agent.
import { existsSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from './agent-error';
import { libbpf, type BpfObject } from './ffi/libbpf';
import { BPFFS, BPFFS_MISSING, bpffsMounted } from './bpffs-mount';

const PREFIX = 'ebpf-studio-';

/** The pin folder of one session of this agent; libbpf creates it when it pins the first map. */
export function sessionPinRoot(sessionId: string): string {
  return join(BPFFS, `${PREFIX}${process.pid}-${sessionId}`);
}

/** Names of the object's maps that ask to be pinned; refuses clearly when there is no bpffs to pin them in. */
export function checkPinnedMaps(obj: BpfObject, objectName: string): string[] {
  const bpf = libbpf();
  const pinned = bpf.maps(obj).filter((map) => bpf.mapPinPath(map) !== null).map((map) => bpf.mapName(map));
  if (pinned.length && !bpffsMounted()) {
    throw new AgentError(
      `${objectName} pins ${pinned.join(', ')} (LIBBPF_PIN_BY_NAME), which needs bpffs: ${BPFFS_MISSING} (or drop the pinning attribute).`,
      'ENOBPFFS',
    );
  }
  return pinned;
}

/** Unpins every pinned map of the object and removes its session folder. */
export function removeSessionPins(obj: BpfObject, pinRoot: string): void {
  libbpf().unpinMaps(obj);
  removeFolder(pinRoot);
}

function removeFolder(folder: string): void {
  try {
    for (const name of readdirSync(folder)) unlinkSync(join(folder, name));
    rmdirSync(folder);
  } catch {
    // Already gone, or never created (no map was pinned).
  }
}

/** Removes pin folders left by agents that were killed (their pid no longer runs). */
export function removeStalePins(): void {
  if (!existsSync(BPFFS)) return;
  let names: string[];
  try {
    names = readdirSync(BPFFS);
  } catch {
    return;
  }
  for (const name of names) {
    const owner = new RegExp(`^${PREFIX}(\\d+)-s\\d+$`).exec(name);
    if (owner && !existsSync(`/proc/${owner[1]}`)) removeFolder(join(BPFFS, name));
  }
}
