// Test support: the BPF programs loaded on this machine, as bpftool lists them (an independent look at what the agent
// loaded and unloaded). Talks to bpftool.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Ids of every BPF program loaded now. */
export function loadedProgramIds(): Set<number> {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  return new Set((JSON.parse(out) as { id: number }[]).map((p) => p.id));
}

/** Ids of the BPF programs some process other than `exceptPid` holds (a program or link fd, from /proc/<pid>/fdinfo). */
export function programsHeldByOtherProcesses(exceptPid = 0): Set<number> {
  const held = new Set<number>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== exceptPid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue; // the process ended
    }
    for (const fd of fds) {
      try {
        const id = /^prog_id:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
        if (id) held.add(Number(id));
      } catch {
        // the fd was closed meanwhile
      }
    }
  }
  return held;
}

/**
 * Programs loaded since `before` that nobody else holds: what this test (its agent `ownPid`, if still running) left
 * loaded. Programs another test run on this machine holds at the same time are not counted as ours.
 */
export function programsLeftSince(before: Set<number>, ownPid = 0): number[] {
  const loaded = [...loadedProgramIds()].filter((id) => !before.has(id));
  const others = programsHeldByOtherProcesses(ownPid);
  // a program another process let go of between the two looks is unloaded by now, unless it was really left behind
  const stillLoaded = loadedProgramIds();
  return loaded.filter((id) => stillLoaded.has(id) && !others.has(id));
}
