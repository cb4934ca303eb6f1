// Latency histograms from map contents: detects the shape (a struct with slots[] per key, as libbpf-tools
// keep them, or counters indexed by slot), extracts counts, bucket ranges in human units, percentiles, and
// the libbpf-tools text layout (print_log2_hist / print_linear_hist). Pure functions; no I/O.
import { Btf, BtfKind, resolveType, typeSize } from '../btf/btf-types';
import { intAsNumber, type MapLayout } from '../btf/value-decoder';
import type { HistogramSpec, HistogramUnit } from '../../protocol/webview-messages';
import type { MapInfo } from '../../protocol/agent-rpc';

export type HistogramShape =
  /** Each entry is one key's histogram: the value has an integer array `slots` (libbpf-tools `struct hist`). */
  | { kind: 'slots-field'; slotCount: number; slotsOffset: number; elemSize: number; signed: boolean; spec: HistogramSpec }
  /** The whole map is one histogram: the key is the slot index, the value its count. */
  | { kind: 'slot-indexed'; slotCount: number; keySize: number; valueSize: number; spec: HistogramSpec };

const SLOT_FIELD_NAMES = ['slots', 'slot', 'buckets', 'hist', 'counts'];

/** Guesses the unit from names like `lat_ns`, `usecs`, `hist_ms`; '' when nothing says. */
export function guessUnit(...names: string[]): HistogramUnit {
  const text = names.join(' ').toLowerCase();
  if (/nsec|(^|[^a-z])ns([^a-z]|$)|_ns\b/.test(text)) return 'ns';
  if (/usec|(^|[^a-z])us([^a-z]|$)|_us\b/.test(text)) return 'us';
  if (/msec|(^|[^a-z])ms([^a-z]|$)|_ms\b/.test(text)) return 'ms';
  return '';
}

function intElement(btf: Btf, typeId: number): { size: number; signed: boolean } | undefined {
  const t = resolveType(btf, typeId);
  if (t.kind !== BtfKind.Int || t.bool || t.bits !== t.size * 8 || t.size > 8) return undefined;
  return { size: t.size, signed: t.signed };
}

/** Detects whether a map holds a histogram; a template's declaration wins over the guessed scale and unit. */
export function detectHistogram(info: MapInfo, layout: MapLayout, btf: Btf | undefined, declared?: HistogramSpec): HistogramShape | undefined {
  const spec = (unit: HistogramUnit): HistogramSpec => declared ?? { scale: 'log2', unit };
  if (btf && layout.valueTypeId) {
    const v = resolveType(btf, layout.valueTypeId);
    if (v.kind === BtfKind.Struct) {
      const wanted = declared?.slotsField ? [declared.slotsField] : SLOT_FIELD_NAMES;
      for (const m of v.members) {
        if (!wanted.includes(m.name)) continue;
        const mt = resolveType(btf, m.type);
        if (mt.kind !== BtfKind.Array || m.bitOffset % 8 !== 0) continue;
        const elem = intElement(btf, mt.type);
        if (!elem) continue;
        return { kind: 'slots-field', slotCount: mt.nelems, slotsOffset: m.bitOffset / 8, elemSize: elem.size, signed: elem.signed, spec: spec(guessUnit(info.name, v.name)) };
      }
    }
  }
  const keyInt = btf && layout.keyTypeId ? intElement(btf, layout.keyTypeId) : undefined;
  const valueInt = btf && layout.valueTypeId ? intElement(btf, layout.valueTypeId) : undefined;
  const slotKeyed = btf ? keyInt && valueInt : layout.keySize === 4 && (layout.valueSize === 4 || layout.valueSize === 8);
  if (slotKeyed && (info.type === 'array' || info.type === 'percpu_array' || declared) && info.maxEntries <= 4096) {
    const t = btf && layout.valueTypeId ? typeSize(btf, layout.valueTypeId) : layout.valueSize;
    return { kind: 'slot-indexed', slotCount: info.maxEntries, keySize: layout.keySize, valueSize: t, spec: spec(guessUnit(info.name)) };
  }
  return undefined;
}

export interface HistogramSet {
  /** Per key (slots-field) or a single "all" histogram (slot-indexed); entry index order. */
  perEntry: Float64Array[];
  /** Sum over every key. */
  total: Float64Array;
}

/** Reads counts out of raw keys/values (per-CPU values are summed over CPUs). */
export function extractHistograms(shape: HistogramShape, layout: MapLayout, littleEndian: boolean, keys: Uint8Array, values: Uint8Array, count: number): HistogramSet {
  const kdv = new DataView(keys.buffer, keys.byteOffset, keys.byteLength);
  const vdv = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const cpus = layout.perCpu ? layout.possibleCpus : 1;
  const cpuStride = layout.perCpu ? Math.ceil(layout.valueSize / 8) * 8 : layout.valueSize;
  const stride = cpuStride * cpus;
  const total = new Float64Array(shape.slotCount);
  if (shape.kind === 'slots-field') {
    const read = intAsNumber(shape.elemSize, shape.signed, littleEndian);
    const perEntry: Float64Array[] = [];
    for (let i = 0; i < count; i++) {
      const h = new Float64Array(shape.slotCount);
      for (let c = 0; c < cpus; c++) {
        const base = i * stride + c * cpuStride + shape.slotsOffset;
        for (let s = 0; s < shape.slotCount; s++) h[s] += read(vdv, base + s * shape.elemSize);
      }
      for (let s = 0; s < shape.slotCount; s++) total[s] += h[s];
      perEntry.push(h);
    }
    return { perEntry, total };
  }
  const readKey = intAsNumber(shape.keySize, false, littleEndian);
  const readValue = intAsNumber(shape.valueSize, false, littleEndian);
  for (let i = 0; i < count; i++) {
    const slot = readKey(kdv, i * layout.keySize);
    if (slot < 0 || slot >= shape.slotCount) continue;
    for (let c = 0; c < cpus; c++) total[slot] += readValue(vdv, i * stride + c * cpuStride);
  }
  return { perEntry: [total], total };
}

/** Value range of a bucket, inclusive, in the histogram's unit (log2 slot 0 is 0–1, slot i is 2^i – 2^(i+1)-1). */
export function bucketRange(spec: HistogramSpec, slot: number): [number, number] {
  if (spec.scale === 'linear') {
    const base = spec.base ?? 0;
    const step = spec.step ?? 1;
    return [base + slot * step, base + (slot + 1) * step - 1];
  }
  if (slot === 0) return [0, 1];
  return [2 ** slot, 2 ** (slot + 1) - 1];
}

const UNIT_STEPS: Record<Exclude<HistogramUnit, ''>, { scale: number; label: string }[]> = {
  ns: [{ scale: 1, label: 'ns' }, { scale: 1e3, label: 'µs' }, { scale: 1e6, label: 'ms' }, { scale: 1e9, label: 's' }],
  us: [{ scale: 1, label: 'µs' }, { scale: 1e3, label: 'ms' }, { scale: 1e6, label: 's' }],
  ms: [{ scale: 1, label: 'ms' }, { scale: 1e3, label: 's' }],
};

function threeDigits(v: number): string {
  if (v === 0) return '0';
  if (Number.isInteger(v) && v < 1000) return String(v);
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1).replace(/\.0$/, '') : v.toFixed(2).replace(/\.?0+$/, '');
}

/** A value in human units: 1536 ns → "1.54 µs"; plain number when the unit is unknown. */
export function formatValue(value: number, unit: HistogramUnit): string {
  if (!unit) return threeDigits(value);
  const steps = UNIT_STEPS[unit];
  let step = steps[0];
  for (const s of steps) if (value >= s.scale) step = s;
  return `${threeDigits(value / step.scale)} ${step.label}`;
}

export function formatBucket(spec: HistogramSpec, slot: number): string {
  const [low, high] = bucketRange(spec, slot);
  return `${formatValue(low, spec.unit)} – ${formatValue(high, spec.unit)}`;
}

/** The value below which a fraction p of the counts fall, interpolated linearly inside the bucket. */
export function percentile(counts: ArrayLike<number>, spec: HistogramSpec, p: number): number | undefined {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total <= 0) return undefined;
  const target = p * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c <= 0) continue;
    if (seen + c >= target) {
      const [low, high] = bucketRange(spec, i);
      return low + ((target - seen) / c) * (high + 1 - low);
    }
    seen += c;
  }
  const [, high] = bucketRange(spec, counts.length - 1);
  return high;
}

function stars(val: number, valMax: number, width: number): string {
  const n = Math.floor((Math.min(val, valMax) * width) / valMax);
  return '*'.repeat(n) + ' '.repeat(width - n) + (val > valMax ? '+' : '');
}

const UNIT_WORDS: Record<HistogramUnit, string> = { ns: 'nsecs', us: 'usecs', ms: 'msecs', '': 'value' };

/** The histogram as libbpf-tools prints it (trace_helpers.c print_log2_hist / print_linear_hist). */
export function libbpfToolsText(counts: ArrayLike<number>, spec: HistogramSpec, valType: string = UNIT_WORDS[spec.unit]): string {
  let idxMax = -1;
  let idxMin = -1;
  let valMax = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      idxMax = i;
      if (idxMin < 0) idxMin = i;
    }
    if (counts[i] > valMax) valMax = counts[i];
  }
  if (idxMax < 0) return '';
  const lines: string[] = [];
  if (spec.scale === 'linear') {
    const base = spec.base ?? 0;
    const step = spec.step ?? 1;
    lines.push(`     ${valType.padEnd(13)} : count     distribution`);
    for (let i = idxMin; i <= idxMax; i++) {
      if (!counts[i]) continue;
      lines.push(`        ${String(base + i * step).padEnd(10)} : ${String(counts[i]).padEnd(8)} |${stars(counts[i], valMax, 40)}|`);
    }
    return lines.join('\n') + '\n';
  }
  const narrow = idxMax <= 32;
  lines.push(`${' '.repeat(narrow ? 5 : 15)}${valType.padEnd(narrow ? 19 : 29)} : count    distribution`);
  const starsMax = narrow ? 40 : 20;
  const width = narrow ? 10 : 20;
  for (let i = 0; i <= idxMax; i++) {
    let low = 2n ** BigInt(i + 1) >> 1n;
    const high = 2n ** BigInt(i + 1) - 1n;
    if (low === high) low -= 1n;
    lines.push(`${String(low).padStart(width)} -> ${String(high).padEnd(width)} : ${String(counts[i]).padEnd(8)} |${stars(counts[i], valMax, starsMax)}|`);
  }
  return lines.join('\n') + '\n';
}
