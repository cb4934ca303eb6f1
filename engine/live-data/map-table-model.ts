// The map table's data model: successive raw snapshots of a map, each entry matched to the same key in the
// previous one (rates per second, what changed), sorted (incrementally when little moved), filtered, top-N.
// Pure (DataView only), so the map view runs it in the browser and unit tests run it in Node.
import type { MapLayout } from '../btf/value-decoder';
import { valueStride } from '../btf/value-decoder';
import type { TableColumn } from './table-columns';

export interface MapSnapshotBytes {
  /** ms since the epoch */
  time: number;
  count: number;
  keys: Uint8Array;
  values: Uint8Array;
}

export interface ViewColumn {
  label: string;
  numeric: boolean;
  kind: 'data' | 'rate';
  source: TableColumn;
}

export interface SortSpec {
  column: number;
  descending: boolean;
}

interface Snapshot extends MapSnapshotBytes {
  kdv: DataView;
  vdv: DataView;
}

/** At most this many rate columns (one per numeric value column, in order). */
const MAX_RATE_COLUMNS = 6;
/** Value fields that are levels or identities, not counters: no rate column for them. */
const NOT_A_COUNTER = /(^|[._])(max|min|avg|mean|last|latest|pid|tgid|tid|cpu|state|flags|ts)(_|$|\.|\[)/i;

export class MapTableModel {
  readonly viewColumns: ViewColumn[];
  private cur: Snapshot | undefined;
  private prev: Snapshot | undefined;
  /** For entry i of the current snapshot: its index in the previous one, or -1 when new. */
  private prevIndexOf: Int32Array = new Int32Array(0);
  private readonly keySize: number;
  private readonly stride: number;
  private sortSpec: SortSpec | undefined;
  private filterText = '';
  private topN = 0;
  /** Entry indexes in display order (sorted, filtered, cut to top-N). */
  private display: Int32Array = new Int32Array(0);
  /** Sorted entry indexes before filter/top-N, kept to re-sort incrementally next time. */
  private sorted: Int32Array = new Int32Array(0);
  /** Buffers reused from update to update (a 100,000-row map at 10 Hz must not churn the GC). */
  private sortKeyBuffer: Float64Array = new Float64Array(0);
  private curOfPrevBuffer: Int32Array = new Int32Array(0);
  private orderBuffers: [Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0)];
  private identityBuffer: Int32Array = new Int32Array(0);
  /** Every key sits where it was in the previous snapshot (nothing added, removed or moved). */
  private keysUnchanged = false;
  /** Figures of the last update, for the status line and the benchmark. */
  lastSortKind: 'none' | 'incremental' | 'full' = 'none';

  constructor(readonly layout: MapLayout, readonly columns: TableColumn[]) {
    this.keySize = layout.keySize;
    this.stride = valueStride(layout);
    const view: ViewColumn[] = [];
    let rates = 0;
    for (const c of columns) {
      view.push({ label: c.label, numeric: c.numeric, kind: 'data', source: c });
      if (c.side === 'value' && c.numeric && !NOT_A_COUNTER.test(c.label) && rates < MAX_RATE_COLUMNS) {
        view.push({ label: `${c.label} Δ/s`, numeric: true, kind: 'rate', source: c });
        rates++;
      }
    }
    this.viewColumns = view;
  }

  get entryCount(): number {
    return this.cur?.count ?? 0;
  }

  get rowCount(): number {
    return this.display.length;
  }

  /** Seconds between the last two snapshots (0 before the second). */
  get intervalSeconds(): number {
    return this.cur && this.prev ? (this.cur.time - this.prev.time) / 1000 : 0;
  }

  get sort(): SortSpec | undefined {
    return this.sortSpec;
  }

  /** Takes a new snapshot: matches keys with the previous one, re-sorts, re-filters. */
  update(snapshot: MapSnapshotBytes): void {
    this.prev = this.cur;
    this.cur = {
      ...snapshot,
      kdv: new DataView(snapshot.keys.buffer, snapshot.keys.byteOffset, snapshot.keys.byteLength),
      vdv: new DataView(snapshot.values.buffer, snapshot.values.byteOffset, snapshot.values.byteLength),
    };
    this.matchKeys();
    this.refresh(true);
  }

  setSort(spec: SortSpec | undefined): void {
    this.sortSpec = spec;
    this.refresh(false);
  }

  setFilter(text: string): void {
    this.filterText = text.trim().toLowerCase();
    this.applyFilter();
  }

  setTopN(n: number): void {
    this.topN = Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
    this.applyFilter();
  }

  /** Entry index (in the current snapshot) shown at display row `row`. */
  entryAt(row: number): number {
    return this.display[row];
  }

  /** Every displayed entry index, in display order (for export). */
  displayedEntries(): Int32Array {
    return this.display;
  }

  cellText(row: number, column: number): string {
    const cur = this.cur;
    if (!cur) return '';
    const i = this.display[row];
    const vc = this.viewColumns[column];
    if (vc.kind === 'data') return this.dataText(cur, vc.source, i);
    const rate = this.rate(vc.source, i);
    if (Number.isNaN(rate)) return '';
    return (rate > 0 ? '+' : '') + (Math.abs(rate) >= 100 || Number.isInteger(rate) ? Math.round(rate).toString() : rate.toFixed(1));
  }

  cellChanged(row: number, column: number): boolean {
    const cur = this.cur;
    const prev = this.prev;
    if (!cur || !prev) return false;
    const i = this.display[row];
    const p = this.prevIndexOf[i];
    const vc = this.viewColumns[column];
    if (p < 0) return vc.kind === 'data';
    if (vc.kind === 'rate') return false;
    const c = vc.source;
    if (c.numeric) return this.num(cur, c, i) !== this.num(prev, c, p);
    return this.dataText(cur, c, i) !== this.dataText(prev, c, p);
  }

  /** Rate of change per second of a numeric value column for entry i (NaN when not known yet). */
  rate(column: TableColumn, i: number): number {
    const cur = this.cur;
    const prev = this.prev;
    if (!cur || !prev) return NaN;
    const p = this.prevIndexOf[i];
    const dt = (cur.time - prev.time) / 1000;
    if (p < 0 || dt <= 0) return NaN;
    return (this.num(cur, column, i) - this.num(prev, column, p)) / dt;
  }

  private num(s: Snapshot, c: TableColumn, i: number): number {
    return c.side === 'key' ? c.num(s.kdv, i * this.keySize) : c.num(s.vdv, i * this.stride);
  }

  private dataText(s: Snapshot, c: TableColumn, i: number): string {
    return c.side === 'key' ? c.text(s.kdv, i * this.keySize) : c.text(s.vdv, i * this.stride);
  }

  /** Same key at the same position is the common case (the kernel's order is stable); else a lookup. */
  private matchKeys(): void {
    const cur = this.cur as Snapshot;
    const prev = this.prev;
    const n = cur.count;
    const map = this.prevIndexOf.length === n ? this.prevIndexOf : new Int32Array(n);
    this.keysUnchanged = false;
    if (!prev) {
      map.fill(-1);
      this.prevIndexOf = map;
      return;
    }
    const ks = this.keySize;
    const a = cur.keys;
    const b = prev.keys;
    const words = ks % 4 === 0 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0;
    const a32 = words ? new Uint32Array(a.buffer, a.byteOffset, (n * ks) / 4) : undefined;
    const b32 = words ? new Uint32Array(b.buffer, b.byteOffset, (prev.count * ks) / 4) : undefined;
    const kw = ks / 4;
    if (a32 && b32 && n === prev.count) {
      // Fast path: one flat pass over all key words; most refreshes change no key at all.
      let w = 0;
      const words = a32.length;
      while (w < words && a32[w] === b32[w]) w++;
      if (w === words) {
        for (let i = 0; i < n; i++) map[i] = i;
        this.keysUnchanged = true;
        this.prevIndexOf = map;
        return;
      }
    }
    let misses = 0;
    for (let i = 0; i < n; i++) {
      let same = i < prev.count;
      if (same) {
        if (a32 && b32) {
          for (let w = i * kw, end = w + kw; w < end; w++) if (a32[w] !== b32[w]) { same = false; break; }
        } else {
          for (let j = i * ks, end = j + ks; j < end; j++) if (a[j] !== b[j]) { same = false; break; }
        }
      }
      map[i] = same ? i : -2;
      if (!same) misses++;
    }
    this.keysUnchanged = misses === 0 && n === prev.count;
    if (misses > 0) {
      const index = new Map<string, number>();
      const keyString = (bytes: Uint8Array, i: number) => String.fromCharCode.apply(null, bytes.subarray(i * ks, (i + 1) * ks) as unknown as number[]);
      for (let i = 0; i < prev.count; i++) index.set(keyString(b, i), i);
      for (let i = 0; i < n; i++) if (map[i] === -2) map[i] = index.get(keyString(a, i)) ?? -1;
    }
    this.prevIndexOf = map;
  }

  private refresh(newData: boolean): void {
    const cur = this.cur;
    if (!cur) return;
    const n = cur.count;
    const spec = this.sortSpec;
    if (!spec) {
      if (this.identityBuffer.length !== n) this.identityBuffer = identity(n);
      this.sorted = this.identityBuffer;
      this.lastSortKind = 'none';
    } else {
      const vc = this.viewColumns[spec.column];
      if (vc.numeric) {
        if (this.sortKeyBuffer.length !== n) this.sortKeyBuffer = new Float64Array(n);
        const keys = this.sortKeyBuffer;
        const sign = spec.descending ? -1 : 1;
        // Keys carry the direction (negated for descending), so the sort only compares with <; unknown values go last.
        if (vc.kind === 'rate') {
          for (let i = 0; i < n; i++) {
            const v = this.rate(vc.source, i);
            keys[i] = v === v ? sign * v : Infinity;
          }
        } else if (!readPlainColumn(vc.source, vc.source.side === 'key' ? cur.keys : cur.values, vc.source.side === 'key' ? this.keySize : this.stride, n, sign, keys)) {
          const num = vc.source.num;
          const dv = vc.source.side === 'key' ? cur.kdv : cur.vdv;
          const stride = vc.source.side === 'key' ? this.keySize : this.stride;
          for (let i = 0, off = 0; i < n; i++, off += stride) {
            const v = num(dv, off);
            keys[i] = v === v ? sign * v : Infinity;
          }
        }
        this.sorted = this.sortNumbers(keys, newData);
      } else {
        const texts = new Array<string>(n);
        for (let i = 0; i < n; i++) texts[i] = this.dataText(cur, vc.source, i);
        const sign = spec.descending ? -1 : 1;
        const order = Array.from(identity(n));
        order.sort((x, y) => (texts[x] < texts[y] ? -sign : texts[x] > texts[y] ? sign : x - y));
        this.sorted = Int32Array.from(order);
        this.lastSortKind = 'full';
      }
    }
    this.applyFilter();
  }

  /**
   * Starts from the previous order mapped to this snapshot's indexes and repairs it by insertion sort, which
   * costs O(n + moved rows); when too much moved it sorts from scratch.
   */
  private sortNumbers(keys: Float64Array, newData: boolean): Int32Array {
    const n = keys.length;
    const before = this.sorted;
    if (newData && this.prev && before.length > 0) {
      if (this.curOfPrevBuffer.length !== this.prev.count) this.curOfPrevBuffer = new Int32Array(this.prev.count);
      const curOfPrev = this.curOfPrevBuffer;
      if (!this.keysUnchanged) {
        curOfPrev.fill(-1);
        for (let i = 0; i < n; i++) if (this.prevIndexOf[i] >= 0) curOfPrev[this.prevIndexOf[i]] = i;
      }
      // Two order buffers take turns: the previous order is read while the next one is written.
      const spare = this.orderBuffers[0] === before ? 1 : 0;
      if (this.orderBuffers[spare].length !== n) this.orderBuffers[spare] = new Int32Array(n);
      const order = this.orderBuffers[spare];
      let k = 0;
      if (this.keysUnchanged && before.length === n) {
        // Same keys at the same places: the previous order applies as is.
        order.set(before);
        k = n;
      } else {
        for (let r = 0; r < before.length; r++) {
          const p = before[r];
          const c = p < curOfPrev.length ? curOfPrev[p] : -1;
          if (c >= 0) order[k++] = c;
        }
        for (let i = 0; i < n; i++) if (this.prevIndexOf[i] < 0) order[k++] = i;
      }
      if (k === n && insertionSort(order, keys, n * 8)) {
        this.lastSortKind = 'incremental';
        return order;
      }
    }
    const order = identity(n);
    order.sort((x, y) => (keys[x] < keys[y] ? -1 : keys[x] > keys[y] ? 1 : x - y));
    this.lastSortKind = 'full';
    return order;
  }

  private applyFilter(): void {
    const cur = this.cur;
    if (!cur) return;
    let rows = this.sorted;
    if (this.filterText) {
      const q = this.filterText;
      const out = new Int32Array(rows.length);
      let k = 0;
      const cols = this.columns;
      for (let r = 0; r < rows.length; r++) {
        const i = rows[r];
        for (let c = 0; c < cols.length; c++) {
          if (this.dataText(cur, cols[c], i).toLowerCase().includes(q)) {
            out[k++] = i;
            break;
          }
        }
      }
      rows = out.subarray(0, k);
    }
    if (this.topN > 0 && rows.length > this.topN) rows = rows.subarray(0, this.topN);
    this.display = rows;
  }
}

/**
 * Reads a plain little-endian integer column of every entry straight from the bytes through an aligned typed
 * array view (no per-entry call), times `sign`, into `out`; false when the column or alignment does not allow it.
 */
function readPlainColumn(column: TableColumn, bytes: Uint8Array, stride: number, n: number, sign: number, out: Float64Array): boolean {
  const plain = column.plainInt;
  if (!plain || plain.size < 4 || plain.offset % 4 !== 0 || stride % 4 !== 0 || bytes.byteOffset % 4 !== 0) return false;
  const words = stride / 4;
  const at = plain.offset / 4;
  const length = Math.floor(bytes.byteLength / 4);
  if (plain.size === 4) {
    const view = plain.signed ? new Int32Array(bytes.buffer, bytes.byteOffset, length) : new Uint32Array(bytes.buffer, bytes.byteOffset, length);
    for (let i = 0, w = at; i < n; i++, w += words) out[i] = sign * view[w];
    return true;
  }
  const low = new Uint32Array(bytes.buffer, bytes.byteOffset, length);
  const high = plain.signed ? new Int32Array(bytes.buffer, bytes.byteOffset, length) : low;
  for (let i = 0, w = at; i < n; i++, w += words) out[i] = sign * (high[w + 1] * 4294967296 + low[w]);
  return true;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Stable insertion sort of `order` by ascending keys (ties by index); false when it would move more than `budget` times. */
function insertionSort(order: Int32Array, keys: Float64Array, budget: number): boolean {
  let moves = 0;
  const n = order.length;
  for (let i = 1; i < n; i++) {
    const v = order[i];
    const kv = keys[v];
    let j = i - 1;
    let u = order[j];
    let ku = keys[u];
    if (ku < kv || (ku === kv && u < v)) continue;
    while (true) {
      order[j + 1] = u;
      if (++moves > budget) return false;
      j--;
      if (j < 0) break;
      u = order[j];
      ku = keys[u];
      if (ku < kv || (ku === kv && u < v)) break;
    }
    order[j + 1] = v;
  }
  return true;
}
