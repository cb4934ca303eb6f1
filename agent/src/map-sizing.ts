// Sizes maps before load as a tool's user space would (bpf_map__set_max_entries/value_size): the user's sizes first,
// else defaults for what the source leaves unset (stack-trace maps, per-CPU arrays, hashes); says what it chose. Talks to libbpf.
import type { MapSize } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { libbpf, type BpfObject } from './ffi/libbpf';

/** PERF_MAX_STACK_DEPTH (the kernel's default kernel.perf_event_max_stack): frames of 8 bytes. */
const STACK_FRAMES = 127;
/** libbpf-tools' default --stack-storage-size. */
const STACK_ENTRIES = 1024;
/** libbpf-tools' usual MAX_ENTRIES for hashes keyed by pid/tid. */
const HASH_ENTRIES = 10240;
const RINGBUF_BYTES = 256 * 1024;
const HASH_TYPES = new Set(['hash', 'lru_hash', 'percpu_hash', 'lru_percpu_hash', 'lpm_trie']);

/** Default max_entries for a map the source declares with none (0), with the reason; undefined: leave it to libbpf/kernel. */
function defaultEntries(type: string): { entries: number; why: string } | undefined {
  if (type === 'stack_trace') return { entries: STACK_ENTRIES, why: `${STACK_ENTRIES} stacks (libbpf-tools' default stack storage)` };
  if (type === 'percpu_array' || type === 'array') {
    const cpus = libbpf().possibleCpus();
    return { entries: cpus, why: `${cpus} entries, one per possible CPU` };
  }
  if (HASH_TYPES.has(type)) return { entries: HASH_ENTRIES, why: `${HASH_ENTRIES} entries` };
  if (type === 'ringbuf') return { entries: RINGBUF_BYTES, why: '256 KiB' };
  return undefined;
}

/**
 * Applies `requested` sizes and the defaults to the opened (not yet loaded) object; returns a note per map whose size
 * was chosen here. Throws on a size for a map the object does not have.
 */
export function sizeMaps(obj: BpfObject, requested: Record<string, MapSize> = {}): Map<string, string> {
  const b = libbpf();
  const notes = new Map<string, string>();
  const names: string[] = [];
  for (const map of b.maps(obj)) {
    const name = b.mapName(map);
    names.push(name);
    if (b.mapIsInternal(map)) continue;
    const def = b.mapDefinition(map);
    const type = b.mapTypeName(def.type);
    const asked = requested[name] ?? {};
    // whole numbers from 1 to 2^32-1: protocol/agent-schema.ts checked them before the request reached here
    const { maxEntries: entries, valueSize } = asked;
    const parts: string[] = [];
    if (entries !== undefined) {
      b.setMapMaxEntries(map, entries);
      parts.push(`max_entries ${entries} (asked)`);
    } else if (def.maxEntries === 0) {
      const chosen = defaultEntries(type);
      if (chosen) {
        b.setMapMaxEntries(map, chosen.entries);
        parts.push(`max_entries ${chosen.entries}: default, ${chosen.why}`);
      }
    }
    if (valueSize !== undefined) {
      b.setMapValueSize(map, valueSize);
      parts.push(`value size ${valueSize} bytes (asked)`);
    } else if (type === 'stack_trace' && def.valueSize === 0) {
      b.setMapValueSize(map, STACK_FRAMES * 8);
      parts.push(`value size ${STACK_FRAMES * 8} bytes: default, ${STACK_FRAMES} frames (the kernel's perf_event_max_stack)`);
    }
    if (parts.length) notes.set(name, `${parts.join('; ')} (CLI: --map-size ${name}=ENTRIES[:VALUE_BYTES])`);
  }
  const unknown = Object.keys(requested).filter((n) => !names.includes(n));
  if (unknown.length) throw new AgentError(`The object has no map ${unknown.join(', ')} to size; it has ${names.join(', ')}.`, 'ENOENT');
  return notes;
}
