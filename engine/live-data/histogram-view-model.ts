// The histogram view's state: successive reads of a histogram map (cumulative counts per key), the chosen key and
// range (since start or last interval), the key picker's stable order, heatmap columns and the CSV/JSON/text exports.
// Pure, so the view runs it in the browser and unit tests run it in Node.
import type { HistogramSpec } from '../../protocol/webview-messages';
import { csvField } from './snapshot-export';
import { bucketRange, libbpfToolsText, percentile, type HistogramSet } from './histogram';

/** The key picker's "every key" entry. */
export const ALL_KEYS = '*';
const HEATMAP_COLUMNS = 120;
const MAX_KEYS_LISTED = 200;

/** One read of the map: every key's cumulative counts, with its id (decoded key) and label (key and name). */
export interface HistogramRead {
  set: HistogramSet;
  keyIds: string[];
  labels: string[];
  time: number;
}

export type HistogramRange = 'total' | 'interval';

export interface HistogramSummary {
  total: number;
  max: number;
  /** First and last slots with a count; -1 when there are none. */
  first: number;
  last: number;
}

/** The last interval's counts per update for the selected key (time →), and the slot rows that hold any. */
export interface Heatmap {
  columns: Float64Array[];
  /** Lowest and highest slot with a count, -1 when none; max is the largest count. */
  lo: number;
  hi: number;
  max: number;
}

export interface ExportedFile {
  content: string;
  suggestedName: string;
}

export class HistogramViewModel {
  spec: HistogramSpec = { scale: 'log2', unit: '' };
  selectedKey = ALL_KEYS;
  range: HistogramRange = 'total';
  private current: HistogramRead | undefined;
  private previous: HistogramRead | undefined;
  /** The last reads; the heatmap shows the difference between neighbours. */
  private readonly history: HistogramRead[] = [];
  /** Keys in the order first seen, so the picker does not reshuffle as counts change. */
  private readonly keyOrder: string[] = [];

  constructor(private readonly slotCount: () => number) {}

  /** Takes a new read: the previous one becomes the base of the last interval; a key gone from the map is deselected. */
  take(read: HistogramRead): void {
    this.previous = this.current;
    this.current = read;
    this.history.push(read);
    if (this.history.length > HEATMAP_COLUMNS + 1) this.history.shift();
    const present = new Set(read.keyIds);
    for (const id of read.keyIds) if (this.keyOrder.length < MAX_KEYS_LISTED && !this.keyOrder.includes(id)) this.keyOrder.push(id);
    for (let i = this.keyOrder.length - 1; i >= 0; i--) if (!present.has(this.keyOrder[i])) this.keyOrder.splice(i, 1);
    if (!present.has(this.selectedKey)) this.selectedKey = ALL_KEYS;
  }

  /** The picker's keys with their labels, in first-seen order (at most 200). */
  keyChoices(): { id: string; label: string }[] {
    return this.keyOrder.map((id) => ({ id, label: this.labelOf(id) }));
  }

  keyCount(): number {
    return this.current?.keyIds.length ?? 0;
  }

  labelOf(id: string): string {
    const i = this.current ? this.current.keyIds.indexOf(id) : -1;
    return i >= 0 && this.current ? this.current.labels[i] : id;
  }

  private get key(): string | undefined {
    return this.selectedKey === ALL_KEYS ? undefined : this.selectedKey;
  }

  /** The counts shown: since start, or added since the previous read (zeros before the second read). */
  shownCounts(): Float64Array | undefined {
    if (!this.current) return undefined;
    if (this.range === 'total') return countsFor(this.current, this.key);
    return (this.previous && difference(this.current, this.previous, this.key)) ?? new Float64Array(this.slotCount());
  }

  summary(counts: Float64Array): HistogramSummary {
    let total = 0;
    let max = 0;
    let first = -1;
    let last = -1;
    for (let s = 0; s < counts.length; s++) {
      total += counts[s];
      if (counts[s] > max) max = counts[s];
      if (counts[s] > 0) {
        if (first < 0) first = s;
        last = s;
      }
    }
    return { total, max, first, last };
  }

  heatmap(): Heatmap {
    const columns: Float64Array[] = [];
    for (let h = 1; h < this.history.length; h++) {
      const column = difference(this.history[h], this.history[h - 1], this.key);
      if (column) columns.push(column);
    }
    let lo = -1;
    let hi = -1;
    let max = 0;
    for (const column of columns) {
      for (let s = 0; s < column.length; s++) {
        if (column[s] <= 0) continue;
        if (lo < 0 || s < lo) lo = s;
        if (s > hi) hi = s;
        if (column[s] > max) max = column[s];
      }
    }
    return { columns, lo, hi, max };
  }

  /** The shown counts in the libbpf-tools text layout, titled with the map, key and range. */
  asText(title: string): string | undefined {
    const counts = this.shownCounts();
    if (!counts) return undefined;
    const key = this.key === undefined ? '' : ` for ${this.labelOf(this.key)}`;
    return `${title}${key} (${this.range === 'total' ? 'since start' : 'last interval'})\n\n${libbpfToolsText(counts, this.spec)}`;
  }

  /** The shown counts as CSV or JSON: one row per bucket with its range, count and share (JSON adds percentiles). */
  exportSnapshot(format: 'csv' | 'json', mapName: string): ExportedFile | undefined {
    const counts = this.shownCounts();
    if (!counts) return undefined;
    const total = counts.reduce((a, b) => a + b, 0);
    const buckets = Array.from(counts, (count, slot) => {
      const [low, high] = bucketRange(this.spec, slot);
      return { slot, low, high, count, share: total > 0 ? count / total : 0 };
    });
    const key = this.key === undefined ? 'all' : this.labelOf(this.key);
    const { scale, unit } = this.spec;
    if (format === 'csv') {
      const lines = ['key,slot,low,high,unit,count,share', ...buckets.map((b) => [key, b.slot, b.low, b.high, unit, b.count, b.share.toFixed(6)].map((v) => csvField(String(v))).join(','))];
      return { content: `${lines.join('\n')}\n`, suggestedName: `${mapName}.csv` };
    }
    const p = (q: number) => percentile(counts, this.spec, q) ?? null;
    const content = JSON.stringify({ key, scale, unit, mode: this.range, total, p50: p(0.5), p90: p(0.9), p99: p(0.99), buckets }, null, 2);
    return { content: `${content}\n`, suggestedName: `${mapName}.json` };
  }
}

function countsFor(read: HistogramRead, key: string | undefined): Float64Array | undefined {
  if (key === undefined) return read.set.total;
  const i = read.keyIds.indexOf(key);
  return i < 0 ? undefined : read.set.perEntry[i];
}

/** Counts added between two reads for a key (a key new in `now` counts from zero); undefined when `now` lacks it. */
function difference(now: HistogramRead, before: HistogramRead, key: string | undefined): Float64Array | undefined {
  const counts = countsFor(now, key);
  if (!counts) return undefined;
  const old = countsFor(before, key);
  const out = new Float64Array(counts.length);
  for (let s = 0; s < counts.length; s++) out[s] = Math.max(0, counts[s] - (old ? old[s] : 0));
  return out;
}
