// Picks the BTF struct that describes a ring/perf buffer record: the one a template names, else a struct of
// exactly the record's size, preferring names like `event`/`data_t`. Pure; used by the events view.
import { Btf, BtfKind } from '../btf/btf-types';

const LIKELY = /^(event|data|record|sample)(_t)?$|event|data/;

export function pickEventType(btf: Btf, recordSize: number, declaredName?: string): number | undefined {
  if (declaredName) {
    const t = btf.findByName(declaredName, BtfKind.Struct) ?? btf.findByName(declaredName, BtfKind.Typedef);
    if (t) return t.id;
  }
  const candidates: { id: number; name: string }[] = [];
  for (let id = btf.firstId; id <= btf.lastId; id++) {
    const t = btf.type(id);
    if (t.kind === BtfKind.Struct && t.size === recordSize && t.name) candidates.push({ id, name: t.name });
  }
  if (candidates.length === 0) return undefined;
  return (candidates.find((c) => LIKELY.test(c.name)) ?? candidates[0]).id;
}
