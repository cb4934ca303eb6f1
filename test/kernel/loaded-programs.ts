// Test support: the BPF programs loaded on this machine, as bpftool lists them (an independent look at what the agent
// loaded and unloaded). Talks to bpftool.
import { execFileSync } from 'node:child_process';

/** Ids of every BPF program loaded now. */
export function loadedProgramIds(): Set<number> {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  return new Set((JSON.parse(out) as { id: number }[]).map((p) => p.id));
}
