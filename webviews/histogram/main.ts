// The histogram view: a latency histogram from a map (shape detected or declared by a template) as bars
// with ranges in ns/µs/ms, count and share, p50/p90/p99, per-key picker, last interval or since start, and
// a time × bucket heatmap on canvas; "Open as text" in the libbpf-tools layout. Talks to the host.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { Btf } from '../../engine/btf/btf-types';
import { compileMapDecoder, compileReader, type DecodedValue, type FieldReader, type MapLayout } from '../../engine/btf/value-decoder';
import { BtfKind, resolveType } from '../../engine/btf/btf-types';
import {
  bucketRange, detectHistogram, extractHistograms, formatBucket, formatValue, libbpfToolsText, percentile,
  type HistogramSet, type HistogramShape,
} from '../../engine/live-data/histogram';
import { csvField } from '../../engine/live-data/snapshot-export';
import type { HistogramSpec, HistogramUnit, LiveViewTarget, MapDataMessage } from '../../protocol/webview-messages';
import { BtfStore } from '../shared/btf-store';
import { component, el, setText } from '../shared/dom-builder';
import { LiveViewFrame } from '../shared/live-view-frame';
import { applyPageStyle } from '../shared/page-style';
import { formatClock, formatCount } from '../shared/display-format';

applyPageStyle();

const HEATMAP_COLUMNS = 120;
const MAX_KEYS_LISTED = 200;
const ALL = '*';

type Select = HTMLElement & { value: string };

const btfStore = new BtfStore();
let target: LiveViewTarget | undefined;
let shape: HistogramShape | undefined;
let spec: HistogramSpec = { scale: 'log2', unit: '' };
let current: { set: HistogramSet; labels: string[]; keyIds: string[]; time: number } | undefined;
let previous: typeof current;
let selectedKey = ALL;
let mode: 'total' | 'interval' = 'total';
let keysListed = '';
/** Key decoder and label cache for the current map layout (labels are "key comm"). */
let decoding: { layoutKey: string; key: FieldReader; comm: FieldReader | undefined; labels: Map<string, string> } | undefined;
/** Keys in the order first seen, so the picker does not reshuffle (and rebuild) as counts change. */
const keyOrder: string[] = [];
/** The last reads (cumulative counts); the heatmap shows the difference between neighbours for the selected key. */
const history: { set: HistogramSet; keyIds: string[] }[] = [];

const frame = new LiveViewFrame<MapDataMessage>({
  dataType: 'mapData',
  takeData: takeSnapshot,
  exportSnapshot,
  takeInit(message) {
    target = message.target;
  },
});
const { channel, toolbar, title } = frame;
const keySelect = component('vscode-single-select', { 'aria-label': 'Key', 'data-role': 'key' }) as Select;
const modeSelect = component('vscode-single-select', { 'aria-label': 'Range', 'data-role': 'mode' }, [
  component('vscode-option', { value: 'total' }, ['Since start']),
  component('vscode-option', { value: 'interval' }, ['Last interval']),
]) as Select;
const unitSelect = component('vscode-single-select', { 'aria-label': 'Unit', 'data-role': 'unit' }, [
  component('vscode-option', { value: 'ns' }, ['ns']),
  component('vscode-option', { value: 'us' }, ['µs']),
  component('vscode-option', { value: 'ms' }, ['ms']),
  component('vscode-option', { value: '' }, ['no unit']),
]) as Select;
const openText = component('vscode-button', { secondary: '', icon: 'go-to-file', 'data-action': 'open-text' }, ['Open as Text']);
toolbar.extra.append(el('label', '', ['Key']), keySelect, modeSelect, el('label', '', ['Unit']), unitSelect, el('span', 'spacer'), openText, ...frame.exportButtons());

const stats = el('div', 'stats');
const statValue = (name: string, label: string) => {
  const value = el('b', '', ['–']);
  stats.append(el('div', 'stat', [value, el('span', '', [label])], { 'data-stat': name }));
  return value;
};
const totalValue = statValue('total', 'count');
const p50Value = statValue('p50', 'p50');
const p90Value = statValue('p90', 'p90');
const p99Value = statValue('p99', 'p99');
const bars = el('div', 'bars', [], { role: 'table', 'aria-label': 'Buckets' });
const heatmapCanvas = el('canvas', 'heatmap', [], { 'aria-label': 'Heatmap: time × bucket' });
const axisTop = el('div');
const axisBottom = el('div');
const heatmapAxis = el('div', 'heatmap-axis', [axisTop, axisBottom]);
document.body.append(toolbar.root, title, toolbar.banner, toolbar.status, stats, bars, el('h3', '', ['Heatmap (last interval per update, time →)']),
  el('div', 'heatmap-box', [heatmapAxis, heatmapCanvas]));

keySelect.addEventListener('change', () => {
  selectedKey = keySelect.value;
  render();
});
modeSelect.addEventListener('change', () => {
  mode = modeSelect.value === 'interval' ? 'interval' : 'total';
  render();
});
unitSelect.addEventListener('change', () => {
  spec = { ...spec, unit: unitSelect.value as HistogramUnit };
  render();
});
openText.addEventListener('click', () => {
  const counts = shownCounts();
  if (!counts) return;
  const key = selectedKey === ALL ? '' : ` for ${labelOf(selectedKey)}`;
  channel.send({ type: 'openAsText', content: `${target?.title ?? 'histogram'}${key} (${mode === 'total' ? 'since start' : 'last interval'})\n\n${libbpfToolsText(counts, spec)}`, suggestedName: `${target?.map ?? 'histogram'}.txt` });
});

/** Reads the field that names each histogram (`comm` as in libbpf-tools, or the template's labelField). */
function commReader(layout: MapLayout, btf: Btf | undefined): FieldReader | undefined {
  if (!btf || !layout.valueTypeId) return undefined;
  const t = resolveType(btf, layout.valueTypeId);
  if (t.kind !== BtfKind.Struct) return undefined;
  const field = target?.histogram?.labelField ?? 'comm';
  const m = t.members.find((x) => x.name === field && x.bitOffset % 8 === 0);
  if (!m) return undefined;
  const read = compileReader(btf, m.type);
  const offset = m.bitOffset / 8;
  return (dv, off) => read(dv, off + offset);
}

function keyText(v: DecodedValue): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function takeSnapshot(message: MapDataMessage): void {
  const info = message.info;
  const btf: Btf | undefined = info.btfId ? btfStore.take(info.btfId, message.btf) : undefined;
  const layout: MapLayout = {
    keySize: info.keySize, valueSize: info.valueSize, keyTypeId: info.btfKeyTypeId, valueTypeId: info.btfValueTypeId,
    perCpu: info.perCpu, possibleCpus: message.possibleCpus,
  };
  const detected = detectHistogram(info, layout, btf, target?.histogram);
  if (!detected) {
    toolbar.showStatus({ type: 'status', state: 'error', message: `${info.name} (${info.type}) does not look like a histogram: no value struct with a slots[] array, and not an array of counters indexed by slot. Open it in the map view, or declare the histogram in the template.` });
    return;
  }
  if (!shape) {
    spec = detected.spec;
    unitSelect.value = spec.unit;
  }
  shape = detected;
  toolbar.hideBanner();
  const set = extractHistograms(detected, layout, btf ? btf.littleEndian : true, message.keys, message.values, message.count);
  const labels: string[] = [];
  const keyIds: string[] = [];
  if (detected.kind === 'slots-field') {
    const layoutKey = `${info.id}/${info.keySize}/${info.valueSize}/${message.possibleCpus}/${btf ? info.btfId : 0}`;
    if (!decoding || decoding.layoutKey !== layoutKey) {
      decoding = { layoutKey, key: compileMapDecoder({ ...layout, valueTypeId: 0 }, btf).key, comm: commReader(layout, btf), labels: new Map() };
    }
    const { key, comm, labels: known } = decoding;
    const kdv = new DataView(message.keys.buffer, message.keys.byteOffset, message.keys.byteLength);
    const vdv = new DataView(message.values.buffer, message.values.byteOffset, message.values.byteLength);
    const stride = layout.perCpu ? Math.ceil(layout.valueSize / 8) * 8 * layout.possibleCpus : layout.valueSize;
    for (let i = 0; i < message.count; i++) {
      const id = keyText(key(kdv, i * layout.keySize));
      keyIds.push(id);
      // The process name can change (exec); names are cheap to re-read, the rest of the label is cached.
      const name = comm ? ` ${comm(vdv, i * stride)}` : '';
      const cached = known.get(id);
      const label = cached !== undefined && cached.endsWith(name) ? cached : `${id}${name}`;
      if (cached !== label) known.set(id, label);
      labels.push(label);
    }
  }
  previous = current;
  current = { set, labels, keyIds, time: message.time };
  history.push({ set, keyIds });
  if (history.length > HEATMAP_COLUMNS + 1) history.shift();
  updateKeyPicker();
  render();
  setText(toolbar.status, `${info.name} (${info.type}) · ${detected.kind === 'slots-field' ? `${message.count} keys · ` : ''}${detected.slotCount} ${spec.scale} slots · ` +
    `read in ${message.readMs.toFixed(1)} ms · updated ${formatClock(message.time)}`);
}

function countsFor(set: HistogramSet, keyIds: string[], key: string | undefined): Float64Array | undefined {
  if (key === undefined) return set.total;
  const i = keyIds.indexOf(key);
  return i < 0 ? undefined : set.perEntry[i];
}

/** Counts added since the previous read (for the selected key), or undefined before the second read. */
function intervalCounts(key: string | undefined): Float64Array | undefined {
  if (!current || !previous) return undefined;
  const now = countsFor(current.set, current.keyIds, key);
  if (!now) return undefined;
  const before = countsFor(previous.set, previous.keyIds, key);
  const out = new Float64Array(now.length);
  for (let s = 0; s < now.length; s++) out[s] = Math.max(0, now[s] - (before ? before[s] : 0));
  return out;
}

function shownCounts(): Float64Array | undefined {
  if (!current) return undefined;
  const key = selectedKey === ALL ? undefined : selectedKey;
  return mode === 'interval' ? intervalCounts(key) ?? new Float64Array(shape?.slotCount ?? 0) : countsFor(current.set, current.keyIds, key);
}

function labelOf(id: string): string {
  const i = current ? current.keyIds.indexOf(id) : -1;
  return i >= 0 && current ? current.labels[i] : id;
}

function updateKeyPicker(): void {
  if (!current || shape?.kind !== 'slots-field') {
    if (keysListed !== ALL) {
      keySelect.replaceChildren(component('vscode-option', { value: ALL }, ['All']));
      keySelect.value = ALL;
      keysListed = ALL;
    }
    return;
  }
  const { keyIds, labels } = current;
  const present = new Set(keyIds);
  let changed = false;
  for (const id of keyIds) {
    if (keyOrder.length < MAX_KEYS_LISTED && !keyOrder.includes(id)) {
      keyOrder.push(id);
      changed = true;
    }
  }
  for (let i = keyOrder.length - 1; i >= 0; i--) {
    if (!present.has(keyOrder[i])) {
      keyOrder.splice(i, 1);
      changed = true;
    }
  }
  const signature = `${keyIds.length}\u0000${keyOrder.join('\u0000')}\u0000${keyOrder.map(labelOf).join('\u0000')}`;
  if (!changed && signature === keysListed) return;
  keysListed = signature;
  const labelById = new Map(keyIds.map((id, i) => [id, labels[i]]));
  keySelect.replaceChildren(
    component('vscode-option', { value: ALL }, [`All keys (${keyIds.length})`]),
    ...keyOrder.map((id) => component('vscode-option', { value: id }, [labelById.get(id) ?? id])),
  );
  keySelect.value = present.has(selectedKey) ? selectedKey : ALL;
}

function render(): void {
  const counts = shownCounts();
  if (!counts || !shape) return;
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
  setText(totalValue, formatCount(total));
  const pct = (p: number) => {
    const v = percentile(counts, spec, p);
    return v === undefined ? '–' : formatValue(v, spec.unit);
  };
  setText(p50Value, pct(0.5));
  setText(p90Value, pct(0.9));
  setText(p99Value, pct(0.99));
  renderBars(counts, total, max, first, last);
  drawHeatmap();
}

interface BarRow { range: HTMLElement; count: HTMLElement; share: HTMLElement; track: HTMLElement; bar: HTMLElement; slot: number }
const barRows: BarRow[] = [];
const barHead = [el('div', 'head range', ['range']), el('div', 'head count', ['count']), el('div', 'head share', ['share']), el('div', 'head', ['distribution'])];
const noSamples = el('div', 'range', ['no samples yet']);
bars.append(...barHead);
let barRange = '';

/** Updates the bar rows in place; rows are only added or removed when the range of used slots changes. */
function renderBars(counts: Float64Array, total: number, max: number, first: number, last: number): void {
  const range = first < 0 ? 'none' : `${first}-${last}/${spec.scale}/${spec.unit}/${spec.base ?? ''}/${spec.step ?? ''}`;
  if (range !== barRange) {
    barRange = range;
    barRows.length = 0;
    const cells: Node[] = [...barHead];
    if (first < 0) cells.push(noSamples);
    for (let s = first; first >= 0 && s <= last; s++) {
      const slot = String(s);
      const bar = el('div', 'bar');
      const row: BarRow = {
        slot: s, bar,
        range: el('div', 'range', [formatBucket(spec, s)], { 'data-slot': slot }),
        count: el('div', 'count', [], { 'data-slot': slot }),
        share: el('div', 'share', [], { 'data-slot': slot }),
        track: el('div', 'track', [bar], { 'data-slot': slot }),
      };
      barRows.push(row);
      cells.push(row.range, row.count, row.share, row.track);
    }
    bars.replaceChildren(...cells);
  }
  for (const row of barRows) {
    const c = counts[row.slot];
    setText(row.count, formatCount(c));
    setText(row.share, total > 0 ? `${((c / total) * 100).toFixed(1)}%` : '');
    const width = max > 0 ? `${((c / max) * 100).toFixed(2)}%` : '0';
    if (row.bar.style.width !== width) row.bar.style.width = width;
  }
}

let heatColor: [number, number, number] | undefined;

/** The theme's chart colour as RGB (re-read when VS Code switches theme: it changes the body's class). */
function chartColor(): [number, number, number] {
  if (!heatColor) {
    const probe = el('div');
    probe.style.color = 'var(--vscode-charts-blue, #3794ff)';
    document.body.append(probe);
    const m = /(\d+),\s*(\d+),\s*(\d+)/.exec(getComputedStyle(probe).color);
    probe.remove();
    heatColor = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [55, 148, 255];
  }
  return heatColor;
}
new MutationObserver(() => {
  heatColor = undefined;
  drawHeatmap();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

/**
 * One pixel per (update, slot) in a small canvas that CSS scales up (pixelated): a 120 × 64 heatmap is
 * 7,680 pixels written at once, whatever the panel size. The slot axis is DOM text beside it.
 */
function drawHeatmap(): void {
  if (!shape) return;
  const key = selectedKey === ALL ? undefined : selectedKey;
  const heatmap: Float64Array[] = [];
  for (let h = 1; h < history.length; h++) {
    const now = countsFor(history[h].set, history[h].keyIds, key);
    if (!now) continue;
    const before = countsFor(history[h - 1].set, history[h - 1].keyIds, key);
    const column = new Float64Array(now.length);
    for (let s = 0; s < now.length; s++) column[s] = Math.max(0, now[s] - (before ? before[s] : 0));
    heatmap.push(column);
  }
  let lo = -1;
  let hi = -1;
  let max = 0;
  for (const column of heatmap) {
    for (let s = 0; s < column.length; s++) {
      if (column[s] <= 0) continue;
      if (lo < 0 || s < lo) lo = s;
      if (s > hi) hi = s;
      if (column[s] > max) max = column[s];
    }
  }
  if (lo < 0) {
    heatmapCanvas.hidden = true;
    setText(axisTop, heatmap.length ? 'no samples in the last intervals' : 'waiting for a second read…');
    setText(axisBottom, '');
    return;
  }
  heatmapCanvas.hidden = false;
  const rows = hi - lo + 1;
  if (heatmapCanvas.width !== HEATMAP_COLUMNS) heatmapCanvas.width = HEATMAP_COLUMNS;
  if (heatmapCanvas.height !== rows) heatmapCanvas.height = rows;
  const ctx = heatmapCanvas.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(HEATMAP_COLUMNS, rows);
  const [r, g, b] = chartColor();
  const logMax = Math.log1p(max);
  const offset = HEATMAP_COLUMNS - heatmap.length;
  for (let x = 0; x < heatmap.length; x++) {
    const column = heatmap[x];
    for (let s = lo; s <= hi; s++) {
      const v = column[s];
      if (v <= 0) continue;
      const p = ((hi - s) * HEATMAP_COLUMNS + offset + x) * 4;
      image.data[p] = r;
      image.data[p + 1] = g;
      image.data[p + 2] = b;
      image.data[p + 3] = Math.round(255 * (0.15 + 0.85 * (Math.log1p(v) / logMax)));
    }
  }
  ctx.putImageData(image, 0, 0);
  setText(axisTop, formatValue(bucketRange(spec, hi)[1], spec.unit));
  setText(axisBottom, formatValue(bucketRange(spec, lo)[0], spec.unit));
}

function exportSnapshot(format: 'csv' | 'json'): void {
  const counts = shownCounts();
  if (!counts || !shape) return;
  const total = counts.reduce((a, b) => a + b, 0);
  const buckets = Array.from(counts, (count, s) => {
    const [low, high] = bucketRange(spec, s);
    return { slot: s, low, high, count, share: total > 0 ? count / total : 0 };
  });
  const key = selectedKey === ALL ? 'all' : labelOf(selectedKey);
  const name = target?.map ?? 'histogram';
  if (format === 'csv') {
    const lines = [`key,slot,low,high,unit,count,share`, ...buckets.map((b) => [key, b.slot, b.low, b.high, spec.unit, b.count, b.share.toFixed(6)].map((v) => csvField(String(v))).join(','))];
    channel.send({ type: 'export', format, content: `${lines.join('\n')}\n`, suggestedName: `${name}.csv` });
  } else {
    const content = JSON.stringify({ key, scale: spec.scale, unit: spec.unit, mode, total, p50: percentile(counts, spec, 0.5) ?? null, p90: percentile(counts, spec, 0.9) ?? null, p99: percentile(counts, spec, 0.99) ?? null, buckets }, null, 2);
    channel.send({ type: 'export', format, content: `${content}\n`, suggestedName: `${name}.json` });
  }
}
