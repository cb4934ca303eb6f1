// Reads what the editor test must see on the machine: the BPF programs and maps its session holds or left (bpftool,
// /proc fdinfo) and the processes a code-server session started (/proc), e.g. whether an eBPF Studio agent runs.
import { readFileSync, readdirSync } from 'node:fs';
import { loadedMaps, loadedPrograms, mapsLeftSince, programsHeldBy, programsLeftSince, processTree, type LoadedObject } from '../../kernel/loaded-programs';

export { loadedMaps, loadedPrograms, type LoadedObject, type LoadedProgram } from '../../kernel/loaded-programs';

/**
 * Programs named one of `names`, loaded since `before`, that `rootPid`'s process tree (code-server or sshd, and the
 * agents under it) holds or no process holds: what this session loaded and still has or left behind, never another
 * test run's programs of the same names.
 */
export function programsLeftBy(rootPid: number, before: Set<number>, names: string[]): LoadedObject[] {
  const left = new Set(programsLeftSince(before, processTree(rootPid)));
  return loadedPrograms().filter((p) => left.has(p.id) && names.includes(p.name));
}

/** Maps (named one of `names`, if given) created since `before` that `rootPid`'s process tree holds or no process holds. */
export function mapsLeftBy(rootPid: number, before: Set<number>, names?: string[]): LoadedObject[] {
  const left = new Set(mapsLeftSince(before, processTree(rootPid)));
  return loadedMaps().filter((m) => left.has(m.id) && (!names || names.includes(m.name)));
}

/** Programs with one of `ids` that `rootPid`'s process tree holds now (an agent it started holds what it attached). */
export function programsHeldByTree(rootPid: number, ids: number[]): number[] {
  const held = programsHeldBy(processTree(rootPid));
  return ids.filter((id) => held.has(id));
}

export interface ProcessInfo {
  pid: number;
  commandLine: string;
}

/** Live processes whose command line mentions `needle` (e.g. the installed extension's agent.js). */
export function processesMentioning(needle: string): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const commandLine = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (commandLine.includes(needle) && !isZombie(name)) found.push({ pid: Number(name), commandLine });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

function isZombie(pid: string): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}
