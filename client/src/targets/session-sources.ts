// Which probe file each attached session came from (target + session id → source path), so a live view can read
// what the probe's template declares about its maps (a histogram's unit) and the probe's lenses what runs. Filled by attach.
import type { Studio } from '../studio';

const sources = new WeakMap<Studio, Map<string, string>>();
const recorded = new WeakMap<Studio, Set<() => void>>();

function sourcesOf(studio: Studio): Map<string, string> {
  let map = sources.get(studio);
  if (!map) {
    map = new Map();
    sources.set(studio, map);
  }
  return map;
}

export function recordSessionSource(studio: Studio, target: string, session: string, sourcePath: string): void {
  sourcesOf(studio).set(`${target}\n${session}`, sourcePath);
  for (const listener of recorded.get(studio) ?? []) listener();
}

/** Calls `listener` after each recordSessionSource; returns the unsubscribe. */
export function onSessionSourceRecorded(studio: Studio, listener: () => void): () => void {
  const listeners = recorded.get(studio) ?? new Set();
  recorded.set(studio, listeners);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function sessionSource(studio: Studio, target: string, session: string): string | undefined {
  return sourcesOf(studio).get(`${target}\n${session}`);
}
