// Reads what the editor test must see on the machine: loaded BPF programs and maps (bpftool) and the
// processes a code-server session started (/proc), e.g. whether an eBPF Studio agent is running.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface LoadedProgram {
  id: number;
  name: string;
  type: string;
}

/** Every BPF program loaded on this machine, from `bpftool -j prog show`. */
export function loadedPrograms(): LoadedProgram[] {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as { id: number; name?: string; type: string }[]).map((p) => ({ id: p.id, name: p.name ?? '', type: p.type }));
}

export interface LoadedMap {
  id: number;
  name: string;
  type: string;
}

/** Every BPF map on this machine, from `bpftool -j map show`. */
export function loadedMaps(): LoadedMap[] {
  const out = execFileSync('bpftool', ['-j', 'map', 'show'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as { id: number; name?: string; type: string }[]).map((m) => ({ id: m.id, name: m.name ?? '', type: m.type }));
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
