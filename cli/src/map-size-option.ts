// `--map-size NAME=ENTRIES[:VALUE_BYTES]` (repeatable), shared by `run` and `check --verify`: the sizes a tool's user space
// would set before load (bpf_map__set_max_entries/value_size), as the agent's mapSizes. Talks to nothing.
import type { MapSize } from '../../protocol/agent-rpc';
import { parseMapSizeText } from '../../engine/targets/map-size-text';
import { UsageError, type OptionSpec } from './command-line';

export const MAP_SIZE_OPTION = { 'map-size': { type: 'string', multiple: true, default: [] } } as const satisfies OptionSpec;

export const MAP_SIZE_USAGE = `  --map-size NAME=N[:V] set map NAME's max_entries to N (and its value size to V bytes) before load (repeatable);
                        unset sizes default to 1024 × 127 frames (stack traces), one entry per CPU (arrays),
                        10240 (hashes), 256 KiB (ring buffers)`;

/** The sizes asked for with --map-size, by map name (a later one for the same map wins); throws UsageError. */
export function parseMapSizes(texts: string[]): Record<string, MapSize> {
  const sizes: Record<string, MapSize> = {};
  for (const text of texts) {
    const m = /^([A-Za-z_]\w*)=(.*)$/.exec(text);
    const size = m ? parseMapSizeText(m[2]) : undefined;
    if (!m || !size) throw new UsageError(`--map-size takes NAME=ENTRIES, NAME=ENTRIES:VALUE_BYTES or NAME=:VALUE_BYTES (whole numbers from 1), not "${text}".`);
    sizes[m[1]] = size;
  }
  return sizes;
}
