// The histogram view's page: bars with ranges in ns/µs/ms, count and share, p50/p90/p99, the key picker, range and
// unit choices and a time × bucket heatmap on canvas; state and exports live in engine/live-data/histogram-view-model.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { Btf } from '../../engine/btf/btf-types';
import { compileMapDecoder, compileReader, type DecodedValue, type FieldReader, type MapLayout } from '../../engine/btf/value-decoder';
import { BtfKind, resolveType } from '../../engine/btf/btf-types';
import { bucketRange, detectHistogram, extractHistograms, formatBucket, formatValue, percentile, type HistogramShape } from '../../engine/live-data/histogram';
import { ALL_KEYS, HistogramViewModel } from '../../engine/live-data/histogram-view-model';
import type { HistogramUnit, LiveViewTarget, MapDataMessage } from '../../protocol/webview-messages';
import { BtfStore } from '../shared/btf-store';
import { component, el, setText } from '../shared/dom-builder';
import { LiveViewFrame } from '../shared/live-view-frame';
import { applyPageStyle } from '../shared/page-style';
import { formatClock, formatCount } from '../shared/display-format';

applyPageStyle();

const HEATMAP_COLUMNS = 120;

type Select = HTMLElement & { value: string };

const btfStore = new BtfStore();
let target: LiveViewTarget | undefined;
let shape: HistogramShape | undefined;
const model = new HistogramViewModel(() => shape?.slotCount ?? 0);
let keysListed = '';
/** Key decoder and label cache for the current map layout (labels are "key comm"). */
let decoding: { layoutKey: string; key: FieldReader; comm: FieldReader | undefined; labels: Map<string, string> } | undefined;

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
  model.selectedKey = keySelect.value;
  render();
});
modeSelect.addEventListener('change', () => {
  model.range = modeSelect.value === 'interval' ? 'interval' : 'total';
  render();
});
unitSelect.addEventListener('change', () => {
  model.spec = { ...model.spec, unit: unitSelect.value as HistogramUnit };
  render();
});
openText.addEventListener('click', () => {
  const content = model.asText(target?.title ?? 'histogram');
  if (content !== undefined) channel.send({ type: 'openAsText', content, suggestedName: `${target?.map ?? 'histogram'}.txt` });
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
    model.spec = detected.spec;
    unitSelect.value = model.spec.unit;
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
  model.take({ set, labels, keyIds, time: message.time });
  updateKeyPicker();
  render();
  setText(toolbar.status, `${info.name} (${info.type}) · ${detected.kind === 'slots-field' ? `${message.count} keys · ` : ''}${detected.slotCount} ${model.spec.scale} slots · ` +
    `read in ${message.readMs.toFixed(1)} ms · updated ${formatClock(message.time)}${message.refreshNote ? ` · ${message.refreshNote}` : ''}`);
}

function updateKeyPicker(): void {
  if (shape?.kind !== 'slots-field') {
    if (keysListed !== ALL_KEYS) {
      keySelect.replaceChildren(component('vscode-option', { value: ALL_KEYS }, ['All']));
      keySelect.value = ALL_KEYS;
      keysListed = ALL_KEYS;
    }
    return;
  }
  const choices = model.keyChoices();
  const signature = `${model.keyCount()}\u0000${choices.map((c) => `${c.id}\u0000${c.label}`).join('\u0000')}`;
  if (signature === keysListed) return;
  keysListed = signature;
  keySelect.replaceChildren(
    component('vscode-option', { value: ALL_KEYS }, [`All keys (${model.keyCount()})`]),
    ...choices.map((c) => component('vscode-option', { value: c.id }, [c.label])),
  );
  keySelect.value = model.selectedKey;
}

function render(): void {
  const counts = model.shownCounts();
  if (!counts || !shape) return;
  const { total, max, first, last } = model.summary(counts);
  const spec = model.spec;
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
  const spec = model.spec;
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
  const { columns: heatmap, lo, hi, max } = model.heatmap();
  const spec = model.spec;
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
  if (!shape) return;
  const file = model.exportSnapshot(format, target?.map ?? 'histogram');
  if (file) channel.send({ type: 'export', format, ...file });
}
