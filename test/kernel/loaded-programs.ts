// Test support: the BPF programs and maps loaded on this machine (bpftool) and the processes that hold them
// (/proc/*/fdinfo), so a test checks what it loaded and left itself, whatever other test runs load meanwhile.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A BPF program or map as bpftool lists it. */
export interface LoadedObject {
  id: number;
  name: string;
  type: string;
}
export type LoadedProgram = LoadedObject;

/** Programs (`prog`) or maps (`map`): the bpftool object and the fdinfo line naming the id a fd holds. */
type Kind = 'prog' | 'map';

function listed(kind: Kind): LoadedObject[] {
  const out = execFileSync('bpftool', ['-j', kind, 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as { id: number; name?: string; type: string }[]).map((p) => ({ id: p.id, name: p.name ?? '', type: p.type }));
}

/** Every BPF program loaded now, as `bpftool prog show` lists it. */
export function loadedPrograms(): LoadedProgram[] {
  return listed('prog');
}

/** Every BPF map now, as `bpftool map show` lists it. */
export function loadedMaps(): LoadedObject[] {
  return listed('map');
}

/** Ids of every BPF program loaded now. */
export function loadedProgramIds(): Set<number> {
  return new Set(loadedPrograms().map((p) => p.id));
}

/** Ids of every BPF map now. */
export function loadedMapIds(): Set<number> {
  return new Set(loadedMaps().map((m) => m.id));
}

const loadedIds = (kind: Kind) => (kind === 'prog' ? loadedProgramIds() : loadedMapIds());

/** The live process ids, from /proc. */
function processIds(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** Ids each process holds: programs through a program or link fd (`prog_id:` in /proc/<pid>/fdinfo/<fd>), maps through a map fd (`map_id:`). */
function heldPerProcess(kind: Kind = 'prog'): Map<number, Set<number>> {
  const line = kind === 'prog' ? /^prog_id:\s+(\d+)$/m : /^map_id:\s+(\d+)$/m;
  const held = new Map<number, Set<number>>();
  for (const pid of processIds()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue; // the process ended
    }
    const ids = new Set<number>();
    for (const fd of fds) {
      try {
        const id = line.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1];
        if (id) ids.add(Number(id));
      } catch {
        // the fd was closed meanwhile
      }
    }
    if (ids.size > 0) held.set(pid, ids);
  }
  return held;
}

/** Ids of the programs any of `pids` holds now. */
export function programsHeldBy(pids: Iterable<number>): Set<number> {
  const perProcess = heldPerProcess();
  return new Set([...pids].flatMap((pid) => [...(perProcess.get(pid) ?? [])]));
}

/** The processes that hold any of `ids` now: an agent found by what it loaded, wherever it runs (under sshd, sudo). */
export function processesHolding(ids: Iterable<number>): number[] {
  const wanted = new Set(ids);
  return [...heldPerProcess()].filter(([, held]) => [...held].some((id) => wanted.has(id))).map(([pid]) => pid);
}

/** `rootPid` and every live process descended from it (parents from /proc/<pid>/stat). */
export function processTree(rootPid: number): Set<number> {
  const children = new Map<number, number[]>();
  for (const pid of processIds()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), pid]);
    } catch {
      // the process ended while we looked
    }
  }
  const tree = new Set<number>();
  const pending = [rootPid];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    if (tree.has(pid)) continue;
    tree.add(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * Ids pinned only under folders that name another live process: tests and agents pin under /sys/fs/bpf/ebpf-studio-…-<pid>…
 * (the test's or the agent's pid), so another test run's pin is told apart from one this test left.
 */
function pinnedByOthers(kind: Kind, own: Set<number>): Set<number> {
  const out = execFileSync('bpftool', ['-j', '-f', kind, 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const live = new Set(processIds());
  const othersFolder = (path: string) => (/^\/sys\/fs\/bpf\/(ebpf-studio-[^/]*)/.exec(path)?.[1].match(/\d+/g) ?? []).some((n) => live.has(Number(n)) && !own.has(Number(n)));
  const pinned = JSON.parse(out) as { id: number; pinned?: string[] }[];
  return new Set(pinned.filter((o) => o.pinned?.length && o.pinned.every(othersFolder)).map((o) => o.id));
}

/** New since `before` and loaded now: those a process of `own` holds, and those no process (nor another's pin) holds. */
function unclaimedSince(kind: Kind, before: Set<number>, own: Set<number>): { held: number[]; unheld: number[] } {
  const loaded = [...loadedIds(kind)].filter((id) => !before.has(id));
  const perProcess = [...heldPerProcess(kind)];
  const ours = new Set(perProcess.filter(([pid]) => own.has(pid)).flatMap(([, ids]) => [...ids]));
  const others = new Set(perProcess.filter(([pid]) => !own.has(pid)).flatMap(([, ids]) => [...ids]));
  // one another process let go of between the two looks is gone by now, unless it was really left behind
  const stillLoaded = loadedIds(kind);
  const left = loaded.filter((id) => stillLoaded.has(id));
  const unheld = left.filter((id) => !ours.has(id) && !others.has(id));
  const othersPins = unheld.length > 0 ? pinnedByOthers(kind, own) : new Set<number>();
  return { held: left.filter((id) => ours.has(id)), unheld: unheld.filter((id) => !othersPins.has(id)) };
}

/** How long a program or map no process holds may take to go (the kernel frees it after its last fd or pin goes). */
const SETTLE_MS = 2_000;

function leftSince(kind: Kind, before: Set<number>, own: number | Iterable<number>): number[] {
  const ownPids = new Set([process.pid, ...(typeof own === 'number' ? [own] : own)]);
  const { held, unheld: firstUnheld } = unclaimedSince(kind, before, ownPids);
  let unheld = firstUnheld;
  const deadline = Date.now() + SETTLE_MS;
  while (unheld.length > 0 && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    const now = new Set(unclaimedSince(kind, before, ownPids).unheld);
    unheld = unheld.filter((id) => now.has(id));
  }
  return [...held, ...unheld].sort((a, b) => a - b);
}

/**
 * Programs loaded since `before` that this test left loaded: held by this process or by one of `own` (its agent, or
 * the agent's whole process tree), or held by no process at all (pinned, or attached with no fd left). Programs other
 * processes hold, such as another test run's on this machine, are not counted, nor those pinned only under a folder
 * that names another live process (/sys/fs/bpf/ebpf-studio-test-<pid>-…). A program no process holds for a
 * moment (another run's bpftool pin about to be removed, or one the kernel is still freeing) counts only if it stays
 * so for SETTLE_MS; a leaked program stays.
 */
export function programsLeftSince(before: Set<number>, own: number | Iterable<number> = []): number[] {
  return leftSince('prog', before, own);
}

/** Maps created since `before` that this test left, counted as programsLeftSince counts programs. */
export function mapsLeftSince(before: Set<number>, own: number | Iterable<number> = []): number[] {
  return leftSince('map', before, own);
}
