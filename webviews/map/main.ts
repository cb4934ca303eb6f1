// The map view: a map's live contents as a virtualised table (keys and values decoded through BTF), with
// sort by any column, filter, top-N, rates per second, changes highlighted, pause, export. Talks to the host.
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { Btf } from '../../engine/btf/btf-types';
import { compileMapDecoder, type MapLayout } from '../../engine/btf/value-decoder';
import { MapTableModel } from '../../engine/live-data/map-table-model';
import { snapshotCsv, snapshotJson } from '../../engine/live-data/snapshot-export';
import { isStackTraceMap, stackTraceColumns } from '../../engine/live-data/stack-columns';
import { buildTableColumns } from '../../engine/live-data/table-columns';
import type { LiveViewTarget, MapDataMessage } from '../../protocol/webview-messages';
import { BtfStore } from '../shared/btf-store';
import { component, el, setText } from '../shared/dom-builder';
import { LiveViewFrame } from '../shared/live-view-frame';
import { applyPageStyle } from '../shared/page-style';
import { VirtualTable } from '../shared/virtual-table';
import { formatClock, formatCount } from '../shared/display-format';

applyPageStyle();

const ROW_HEIGHT = 22;
const btfStore = new BtfStore();
let target: LiveViewTarget | undefined;
let model: MapTableModel | undefined;
let modelKey = '';
let last: { message: MapDataMessage; btf: Btf | undefined; layout: MapLayout } | undefined;
/** Stack-trace maps: names of frame addresses as the host sent them (hex address → function+0xoffset). */
const frameNames = new Map<string, string>();
let selectedEntry = -1;

const frame = new LiveViewFrame<MapDataMessage>({
  dataType: 'mapData',
  takeData: takeSnapshot,
  exportSnapshot,
  takeInit(message) {
    target = message.target;
  },
  afterStatus(message) {
    if (message.state === 'gone' && last) setText(toolbar.status, `${statusText()} · last data shown is from before the map went away`);
  },
});
const { channel, toolbar, title } = frame;
const filter = component('vscode-textfield', { placeholder: 'Filter (any column)', 'aria-label': 'Filter', 'data-role': 'filter' }) as HTMLElement & { value: string };
const topN = component('vscode-textfield', { type: 'number', min: '0', placeholder: 'Top N', 'aria-label': 'Top N', 'data-role': 'top-n' }) as HTMLElement & { value: string };
toolbar.extra.append(filter, topN, el('span', 'spacer'), ...frame.exportButtons());
const detail = el('div', 'detail', [], { 'aria-label': 'Selected entry' });
detail.hidden = true;

const table = new VirtualTable(ROW_HEIGHT, {
  onSort(column) {
    if (!model) return;
    const current = model.sort;
    const numeric = model.viewColumns[column].numeric;
    const next = current && current.column === column ? { column, descending: !current.descending } : { column, descending: numeric };
    model.setSort(next);
    table.setSort(next);
    render();
  },
  onSelect(row) {
    if (!model || !last) return;
    selectedEntry = model.entryAt(row);
    showDetail();
  },
});
document.body.append(toolbar.root, title, toolbar.banner, toolbar.status, table.root, detail);

filter.addEventListener('input', () => {
  model?.setFilter(filter.value);
  render();
});
topN.addEventListener('input', () => {
  model?.setTopN(Number(topN.value));
  render();
});
function takeSnapshot(message: MapDataMessage): void {
  const info = message.info;
  for (const [address, name] of Object.entries(message.frameNames ?? {})) frameNames.set(address, name);
  const btf = info.btfId ? btfStore.take(info.btfId, message.btf) : undefined;
  const layout: MapLayout = {
    keySize: info.keySize, valueSize: info.valueSize, keyTypeId: info.btfKeyTypeId, valueTypeId: info.btfValueTypeId,
    perCpu: info.perCpu, possibleCpus: message.possibleCpus,
  };
  const key = `${info.id}/${info.keySize}/${info.valueSize}/${message.possibleCpus}/${btf ? info.btfId : 0}`;
  if (!model || key !== modelKey) {
    model = new MapTableModel(layout, isStackTraceMap(info) ? stackTraceColumns(layout, frameNames) : buildTableColumns(layout, btf, target?.columnFormats ?? {}));
    modelKey = key;
    table.setHeaders(model.viewColumns.map((c) => ({ label: c.label, numeric: c.numeric, className: c.kind === 'rate' ? 'rate' : undefined })));
    table.setSort(undefined);
    model.setFilter(filter.value ?? '');
    model.setTopN(Number(topN.value));
  }
  last = { message, btf, layout };
  toolbar.hideBanner();
  model.update({ time: message.time, count: message.count, keys: message.keys, values: message.values });
  render();
  if (selectedEntry >= 0) showDetail();
}

function statusText(): string {
  if (!model || !last) return '';
  const { message } = last;
  const shown = model.rowCount === model.entryCount ? '' : ` · ${formatCount(model.rowCount)} shown`;
  const noBtf = message.info.btfId === 0 ? ' · no BTF: keys and values in hex' : btfStore.error(message.info.btfId) ? ` · BTF unreadable: ${btfStore.error(message.info.btfId)}` : '';
  const refresh = message.refreshNote ? ` · ${message.refreshNote}` : '';
  return `${message.info.name} (${message.info.type}) · ${formatCount(model.entryCount)} entries${shown} · read in ${message.readMs.toFixed(1)} ms · ` +
    `updated ${formatClock(message.time)}${refresh}${noBtf}`;
}

function render(): void {
  if (!model) return;
  const m = model;
  table.update(m.rowCount, { text: (row, col) => m.cellText(row, col), changed: (row, col) => m.cellChanged(row, col) });
  setText(toolbar.status, statusText());
}

function showDetail(): void {
  if (!last || selectedEntry < 0 || selectedEntry >= last.message.count) {
    detail.hidden = true;
    return;
  }
  const { message, btf, layout } = last;
  const decoder = compileMapDecoder(layout, btf);
  const kdv = new DataView(message.keys.buffer, message.keys.byteOffset, message.keys.byteLength);
  const vdv = new DataView(message.values.buffer, message.values.byteOffset, message.values.byteLength);
  const entry = { key: decoder.key(kdv, selectedEntry * layout.keySize), value: decoder.value(vdv, selectedEntry * decoder.valueStride) };
  const heading = layout.perCpu ? `Entry (value per CPU, ${layout.possibleCpus} CPUs)` : 'Entry';
  setText(detail, `${heading}\n${JSON.stringify(entry, null, 2)}`);
  detail.hidden = false;
}

function exportSnapshot(format: 'csv' | 'json'): void {
  if (!model || !last) return;
  const { message, btf, layout } = last;
  const rows = model.displayedEntries();
  const content = format === 'csv'
    ? snapshotCsv(model.columns, layout, message.keys, message.values, rows)
    : snapshotJson(layout, btf, message.keys, message.values, rows);
  channel.send({ type: 'export', format, content, suggestedName: `${message.info.name || `map-${message.info.id}`}.${format}` });
}
