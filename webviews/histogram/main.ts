// The histogram view: a latency histogram from a map (shape detected or declared by a template) as bars
// with ranges in ns/µs/ms, count and share, p50/p90/p99, per-key picker, last interval or since start, and
// a time × bucket heatmap on canvas; "Open as text" in the libbpf-tools layout. Talks to the host.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { Btf } from '../../engine/btf/btf-types';
import { compileMapDecoder, type DecodedValue, type MapLayout } from '../../engine/btf/value-decoder';
import {
  bucketRange, detectHistogram, extractHistograms, formatBucket, formatValue, libbpfToolsText, percentile,
  type HistogramSet, type HistogramShape,
} from '../../engine/live-data/histogram';
import { csvField } from '../../engine/live-data/snapshot-export';
import type { HistogramSpec, HistogramUnit, HostToWebview, LiveViewTarget, MapDataMessage } from '../../protocol/webview-messages';
import { BtfStore } from '../shared/btf-store';
import { component, el, setText } from '../shared/dom-builder';
import { connectToHost } from '../shared/host-channel';
import { applyPageStyle } from '../shared/page-style';
import { timeUpdate } from '../shared/update-timings';
import { ViewToolbar } from '../shared/view-toolbar';

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
/** Heatmap history: one column of per-slot counts per update (last interval), for the selected key. */
let heatmap: Float64Array[] = [];

const channel = connectToHost(onMessage);
const toolbar = new ViewToolbar(channel);
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
const exportCsv = component('vscode-button', { secondary: '', icon: 'export', 'data-action': 'export-csv' }, ['CSV']);
const exportJson = component('vscode-button', { secondary: '', icon: 'json', 'data-action': 'export-json' }, ['JSON']);
toolbar.extra.append(el('label', '', ['Key']), keySelect, modeSelect, el('label', '', ['Unit']), unitSelect, el('span', 'spacer'), openText, exportCsv, exportJson);

const title = el('h3', 'title');
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
const heatmapCanvas = el('canvas', 'heatmap', [], { height: '220', 'aria-label': 'Heatmap: time × bucket' });
document.body.append(toolbar.root, title, toolbar.banner, toolbar.status, stats, bars, el('h3', '', ['Heatmap (last interval per update, time →)']), heatmapCanvas);

keySelect.addEventListener('change', () => {
  selectedKey = keySelect.value;
  heatmap = [];
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
exportCsv.addEventListener('click', () => exportSnapshot('csv'));
exportJson.addEventListener('click', () => exportSnapshot('json'));

function onMessage(message: HostToWebview): void {
  switch (message.type) {
    case 'init':
      target = message.target;
      channel.saveTarget(target);
      setText(title, target.title);
      toolbar.setInterval(message.refreshIntervalMs);
      toolbar.setPaused(message.paused);
      break;
    case 'mapData':
      timeUpdate(() => takeSnapshot(message));
      break;
    case 'exportRequest':
      exportSnapshot(message.format);
      break;
    case 'status':
      toolbar.showStatus(message);
      break;
    default:
      break;
  }
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
    const decoder = compileMapDecoder(layout, btf);
    const kdv = new DataView(message.keys.buffer, message.keys.byteOffset, message.keys.byteLength);
    const vdv = new DataView(message.values.buffer, message.values.byteOffset, message.values.byteLength);
    for (let i = 0; i < message.count; i++) {
      const id = keyText(decoder.key(kdv, i * layout.keySize));
      const value = decoder.value(vdv, i * decoder.valueStride);
      const one = Array.isArray(value) ? value[0] : value;
      const comm = one && typeof one === 'object' && !Array.isArray(one) && typeof one.comm === 'string' ? ` ${one.comm}` : '';
      keyIds.push(id);
      labels.push(`${id}${comm}`);
    }
  }
  previous = current;
  current = { set, labels, keyIds, time: message.time };
  const interval = intervalCounts(ALL === selectedKey ? undefined : selectedKey);
  if (interval) {
    heatmap.push(interval);
    if (heatmap.length > HEATMAP_COLUMNS) heatmap.shift();
  }
  updateKeyPicker();
  render();
  setText(toolbar.status, `${info.name} (${info.type}) · ${detected.kind === 'slots-field' ? `${message.count} keys · ` : ''}${detected.slotCount} ${spec.scale} slots · ` +
    `read in ${message.readMs.toFixed(1)} ms · updated ${new Date(message.time).toLocaleTimeString()}`);
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
  const { set, keyIds, labels } = current;
  const order = keyIds.map((_, i) => i);
  const sums = set.perEntry.map((h) => h.reduce((a, b) => a + b, 0));
  order.sort((a, b) => sums[b] - sums[a]);
  const listed = order.slice(0, MAX_KEYS_LISTED);
  const signature = listed.map((i) => keyIds[i]).join('\u0000');
  if (signature === keysListed) return;
  keysListed = signature;
  keySelect.replaceChildren(
    component('vscode-option', { value: ALL }, [`All keys (${keyIds.length})`]),
    ...listed.map((i) => component('vscode-option', { value: keyIds[i] }, [labels[i]])),
  );
  keySelect.value = keyIds.includes(selectedKey) ? selectedKey : ALL;
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
  setText(totalValue, total.toLocaleString('en-US'));
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

function renderBars(counts: Float64Array, total: number, max: number, first: number, last: number): void {
  const rows: Node[] = [
    el('div', 'head range', ['range']), el('div', 'head count', ['count']), el('div', 'head share', ['share']), el('div', 'head', ['distribution']),
  ];
  if (first < 0) {
    rows.push(el('div', 'range', ['no samples yet']));
  } else {
    for (let s = first; s <= last; s++) {
      const bar = el('div', 'bar');
      bar.style.width = max > 0 ? `${((counts[s] / max) * 100).toFixed(2)}%` : '0';
      const row = [
        el('div', 'range', [formatBucket(spec, s)], { 'data-slot': String(s) }),
        el('div', 'count', [counts[s].toLocaleString('en-US')], { 'data-slot': String(s) }),
        el('div', 'share', [total > 0 ? `${((counts[s] / total) * 100).toFixed(1)}%` : ''], { 'data-slot': String(s) }),
        el('div', 'track', [bar], { 'data-slot': String(s) }),
      ];
      rows.push(...row);
    }
  }
  bars.replaceChildren(...rows);
}

function drawHeatmap(): void {
  const canvas = heatmapCanvas;
  const width = canvas.clientWidth || 600;
  if (canvas.width !== width) canvas.width = width;
  const ctx = canvas.getContext('2d');
  if (!ctx || !shape) return;
  const height = canvas.height;
  const style = getComputedStyle(document.documentElement);
  const color = style.getPropertyValue('--vscode-charts-blue').trim() || '#3794ff';
  const text = style.getPropertyValue('--vscode-descriptionForeground').trim() || '#888';
  ctx.clearRect(0, 0, width, height);
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
  ctx.fillStyle = text;
  ctx.font = '11px sans-serif';
  if (lo < 0) {
    ctx.fillText('waiting for a second read…', 8, 16);
    return;
  }
  const labelWidth = 90;
  const rows = hi - lo + 1;
  const cellW = (width - labelWidth) / HEATMAP_COLUMNS;
  const cellH = height / rows;
  ctx.fillStyle = color;
  const logMax = Math.log1p(max);
  const offset = HEATMAP_COLUMNS - heatmap.length;
  for (let x = 0; x < heatmap.length; x++) {
    const column = heatmap[x];
    for (let s = lo; s <= hi; s++) {
      const v = column[s];
      if (v <= 0) continue;
      ctx.globalAlpha = 0.15 + 0.85 * (Math.log1p(v) / logMax);
      ctx.fillRect(labelWidth + (offset + x) * cellW, height - (s - lo + 1) * cellH, Math.ceil(cellW), Math.ceil(cellH));
    }
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = text;
  const every = Math.max(1, Math.ceil(14 / cellH));
  for (let s = lo; s <= hi; s += every) {
    const [low] = bucketRange(spec, s);
    ctx.fillText(formatValue(low, spec.unit), 4, height - (s - lo) * cellH - 3);
  }
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
