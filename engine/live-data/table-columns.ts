// Flattens a map's key and value types (through BTF) into table columns, each with a numeric reader
// (sorting, rates, per-CPU sums) and a text reader (display); used by the map view and CSV export.
import { Btf, BtfKind, resolveType, typeSize } from '../btf/btf-types';
import { compileReader, hexReader, intAsNumber, isCharType, type DecodedValue, type MapLayout } from '../btf/value-decoder';
import type { ColumnFormat } from '../../protocol/webview-messages';

export interface TableColumn {
  /** "key", "key.saddr", "value.slots", "value.bits.a" … */
  label: string;
  side: 'key' | 'value';
  numeric: boolean;
  /** Number for sorting and rates (a per-CPU value column sums the CPUs). NaN for text columns. */
  num(dv: DataView, offset: number): number;
  /** The cell as shown (a per-CPU value column shows the sum). */
  text(dv: DataView, offset: number): string;
  /** Where a plain little-endian integer sits in the key/value, so a whole column can be read in one loop. */
  plainInt?: { offset: number; size: 1 | 2 | 4 | 8; signed: boolean };
}

/** Arrays up to this many numbers get a column per element; longer ones one text column. */
const MAX_SPREAD_ARRAY = 8;
const MAX_DEPTH = 4;

function compact(v: DecodedValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function ipv4(dv: DataView, off: number): string {
  return `${dv.getUint8(off)}.${dv.getUint8(off + 1)}.${dv.getUint8(off + 2)}.${dv.getUint8(off + 3)}`;
}

function ipv6(dv: DataView, off: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(dv.getUint16(off + i, false).toString(16));
  // Longest run of zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Address formats the type itself suggests: a 4-byte `*addr*`/`ip4` field, a 16-byte `*addr6*`/`ip6` byte array. */
function guessFormat(name: string, size: number, isByteArray: boolean): ColumnFormat | undefined {
  const n = name.toLowerCase();
  if (size === 4 && !isByteArray && /(^|_)(s|d|src|dst)?addr4?$|^ipv?4|(^|_)ip$/.test(n)) return 'ipv4';
  if (size === 16 && isByteArray && /addr6?$|^ipv?6|(s|d)ip6/.test(n)) return 'ipv6';
  return undefined;
}

class ColumnBuilder {
  readonly columns: TableColumn[] = [];
  constructor(private readonly btf: Btf, private readonly formats: Record<string, ColumnFormat>) {}

  add(side: 'key' | 'value', label: string, typeId: number, base: number, depth: number, fieldName: string): void {
    const btf = this.btf;
    const t = resolveType(btf, typeId);
    const size = typeSize(btf, typeId);
    const isByteArray = t.kind === BtfKind.Array && resolveType(btf, t.type).kind === BtfKind.Int && typeSize(btf, t.type) === 1 && !isCharType(resolveType(btf, t.type));
    const format = this.formats[label] ?? guessFormat(fieldName, size, isByteArray);
    if (format === 'ipv4' && size === 4) return this.push(side, label, false, () => NaN, (dv, off) => ipv4(dv, off + base));
    if (format === 'ipv6' && size === 16) return this.push(side, label, false, () => NaN, (dv, off) => ipv6(dv, off + base));
    if (format === 'hex') {
      const hex = hexReader(size);
      return this.push(side, label, false, () => NaN, (dv, off) => hex(dv, off + base) as string);
    }
    if ((t.kind === BtfKind.Struct || t.kind === BtfKind.Union) && depth < MAX_DEPTH) {
      for (const m of t.members) {
        const mt = resolveType(btf, m.type);
        const bitfield = m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0 || (mt.kind === BtfKind.Int && (mt.bitOffset !== 0 || mt.bits !== mt.size * 8));
        if (bitfield) {
          // Bitfields keep the object reader's exact decoding; read from the enclosing struct.
          const read = compileReader(btf, typeId);
          const name = m.name;
          this.push(side, `${label}.${name}`, true, (dv, off) => Number((read(dv, off + base) as Record<string, DecodedValue>)[name]), (dv, off) => compact((read(dv, off + base) as Record<string, DecodedValue>)[name]));
          continue;
        }
        if (!m.name && (mt.kind === BtfKind.Struct || mt.kind === BtfKind.Union)) {
          this.add(side, label, m.type, base + m.bitOffset / 8, depth + 1, '');
          continue;
        }
        if (!m.name) continue;
        this.add(side, `${label}.${m.name}`, m.type, base + m.bitOffset / 8, depth + 1, m.name);
      }
      return;
    }
    if (t.kind === BtfKind.Array && !isCharType(resolveType(btf, t.type)) && t.nelems <= MAX_SPREAD_ARRAY && isNumericType(btf, t.type)) {
      const elemSize = typeSize(btf, t.type);
      for (let i = 0; i < t.nelems; i++) this.add(side, `${label}[${i}]`, t.type, base + i * elemSize, depth + 1, '');
      return;
    }
    const read = compileReader(btf, typeId);
    if (isNumericType(btf, typeId)) {
      const rt = resolveType(btf, typeId);
      const num = rt.kind === BtfKind.Int && rt.bitOffset === 0 && rt.bits === rt.size * 8 && !rt.bool
        ? intAsNumber(rt.size, rt.signed, btf.littleEndian)
        : (dv: DataView, off: number) => Number(read(dv, off));
      this.push(side, label, true, (dv, off) => num(dv, off + base), (dv, off) => compact(read(dv, off + base)));
      if (rt.kind === BtfKind.Int && rt.bitOffset === 0 && rt.bits === rt.size * 8 && !rt.bool && btf.littleEndian && [1, 2, 4, 8].includes(rt.size)) {
        this.columns[this.columns.length - 1].plainInt = { offset: base, size: rt.size as 1 | 2 | 4 | 8, signed: rt.signed };
      }
      return;
    }
    return this.push(side, label, false, () => NaN, (dv, off) => compact(read(dv, off + base)));
  }

  push(side: 'key' | 'value', label: string, numeric: boolean, num: TableColumn['num'], text: TableColumn['text']): void {
    this.columns.push({ label, side, numeric, num, text });
  }
}

function isNumericType(btf: Btf, typeId: number): boolean {
  const t = resolveType(btf, typeId);
  return (t.kind === BtfKind.Int && !t.bool && t.size <= 8) || t.kind === BtfKind.Float || t.kind === BtfKind.Ptr;
}

function hexColumn(side: 'key' | 'value', size: number): TableColumn {
  const hex = hexReader(size);
  return { label: side, side, numeric: false, num: () => NaN, text: (dv, off) => hex(dv, off) as string };
}

/** Sums a value column over the CPUs of a per-CPU map (text columns show CPU 0). */
function perCpu(column: TableColumn, cpuStride: number, cpus: number): TableColumn {
  if (!column.numeric) return column;
  const num = (dv: DataView, off: number) => {
    let sum = 0;
    for (let c = 0; c < cpus; c++) sum += column.num(dv, off + c * cpuStride);
    return sum;
  };
  return { label: column.label, side: column.side, numeric: true, num, text: (dv, off) => { const s = num(dv, off); return Number.isSafeInteger(s) || !Number.isInteger(s) ? String(s) : `≈${s}`; } };
}

/** Columns for a map: key columns first, then value columns. */
export function buildTableColumns(layout: MapLayout, btf: Btf | undefined, formats: Record<string, ColumnFormat> = {}): TableColumn[] {
  const columns: TableColumn[] = [];
  const typed = (typeId: number | undefined, size: number) => btf && typeId && typeSize(btf, typeId) === size;
  if (btf && typed(layout.keyTypeId, layout.keySize)) {
    const b = new ColumnBuilder(btf, formats);
    b.add('key', 'key', layout.keyTypeId as number, 0, 0, 'key');
    columns.push(...b.columns);
  } else columns.push(hexColumn('key', layout.keySize));
  let valueColumns: TableColumn[];
  if (btf && typed(layout.valueTypeId, layout.valueSize)) {
    const b = new ColumnBuilder(btf, formats);
    b.add('value', 'value', layout.valueTypeId as number, 0, 0, 'value');
    valueColumns = b.columns;
  } else valueColumns = [hexColumn('value', layout.valueSize)];
  if (layout.perCpu) {
    const cpuStride = Math.ceil(layout.valueSize / 8) * 8;
    valueColumns = valueColumns.map((c) => perCpu(c, cpuStride, layout.possibleCpus));
  }
  return columns.concat(valueColumns);
}
