// Picks the BTF struct that describes a ring/perf buffer record: the one a template names, else the one the program
// passes to the buffer (found in its source), else a struct fitting the record's size (perf pads records to 8 bytes;
// variable-length records are shorter than their struct), preferring names like `event`/`data_t`. Pure.
import { Btf, BtfKind, resolveType } from '../btf/btf-types';

const LIKELY = /^(event|data|record|sample)(_t)?$|event|data/;
/** Perf buffers round a record up so that its u32 size header plus the data is a multiple of 8. */
const PERF_PADDING = 7;

function findStruct(btf: Btf, name: string): number | undefined {
  const t = btf.findByName(name, BtfKind.Struct) ?? btf.findByName(name, BtfKind.Typedef);
  if (!t) return undefined;
  const resolved = resolveType(btf, t.id);
  return resolved.kind === BtfKind.Struct || resolved.kind === BtfKind.Union ? t.id : undefined;
}

/**
 * The type id for records of `recordSize` bytes: by the declared name, then the names found in the source (in order),
 * then by size. undefined when nothing fits.
 */
export function pickEventType(btf: Btf, recordSize: number, declaredName?: string, sourceNames: readonly string[] = []): number | undefined {
  for (const name of [declaredName, ...sourceNames]) {
    const id = name ? findStruct(btf, name) : undefined;
    if (id !== undefined) return id;
  }
  const exact: { id: number; name: string }[] = [];
  const padded: { id: number; name: string }[] = [];
  const longer: { id: number; name: string }[] = [];
  for (let id = btf.firstId; id <= btf.lastId; id++) {
    const t = btf.type(id);
    if (t.kind !== BtfKind.Struct || !t.name) continue;
    if (t.size === recordSize) exact.push({ id, name: t.name });
    else if (t.size < recordSize && t.size >= recordSize - PERF_PADDING) padded.push({ id, name: t.name });
    else if (t.size > recordSize && LIKELY.test(t.name)) longer.push({ id, name: t.name });
  }
  for (const candidates of [exact, padded]) {
    if (candidates.length) return (candidates.find((c) => LIKELY.test(c.name)) ?? candidates[0]).id;
  }
  // A variable-length record (e.g. execsnoop's args cut to their length) is a prefix of its struct.
  return longer.sort((a, b) => Number(b.name === 'event') - Number(a.name === 'event'))[0]?.id;
}
