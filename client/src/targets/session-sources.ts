// Which probe file each attached session came from (target + session id → source path), so a live view can read
// what the probe's template declares about its maps (a histogram's unit). Filled by attach; talks to nothing.
import type { Studio } from '../studio';

const sources = new WeakMap<Studio, Map<string, string>>();

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
}

export function sessionSource(studio: Studio, target: string, session: string): string | undefined {
  return sourcesOf(studio).get(`${target}\n${session}`);
}
