// The events view: ring/perf buffer records as a streaming, virtualised table decoded through BTF (newest
// first), with the rate, pause, a filter and the agent's count of dropped events. Talks to the host.
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { Btf } from '../../engine/btf/btf-types';
import { parseBtf, typeSize } from '../../engine/btf/btf-types';
import { compileReader, toHex } from '../../engine/btf/value-decoder';
import { csvField } from '../../engine/live-data/snapshot-export';
import { pickEventType } from '../../engine/live-data/event-type';
import { buildTableColumns, type TableColumn } from '../../engine/live-data/table-columns';
import type { EventsMessage, LiveViewTarget } from '../../protocol/webview-messages';
import { component, el, setText } from '../shared/dom-builder';
import { LiveViewFrame } from '../shared/live-view-frame';
import { applyPageStyle } from '../shared/page-style';
import { VirtualTable } from '../shared/virtual-table';
import { formatClock, formatCount } from '../shared/display-format';

applyPageStyle();

/** Records kept in the view; older ones scroll out (the count says so). */
const CAPACITY = 100_000;
const ROW_HEIGHT = 22;
const RATE_WINDOW_MS = 2000;

interface StoredRecord {
  time: number;
  bytes: Uint8Array;
  dv: DataView;
}

let target: LiveViewTarget | undefined;
let btf: Btf | undefined;
let btfError = '';
let columns: TableColumn[] | undefined;
let recordSize = 0;
let eventTypeId: number | undefined;
/** Struct names the program passes to this map (from its source), best first. */
let eventStructs: string[] = [];
/** Ring of records, newest at the end. */
const records: StoredRecord[] = [];
let received = 0;
let dropped = 0;
let whilePaused = 0;
let shown: number[] = [];
let filterText = '';
const arrivals: { time: number; n: number }[] = [];
let renderQueued = false;

const { channel, toolbar, title } = new LiveViewFrame<EventsMessage>({
  dataType: 'events',
  takeData: takeEvents,
  exportSnapshot,
  takeInit(message) {
    target = message.target;
  },
  interval: false,
});
const filter = component('vscode-textfield', { placeholder: 'Filter (any column)', 'aria-label': 'Filter', 'data-role': 'filter' }) as HTMLElement & { value: string };
toolbar.extra.append(filter);
const droppedBanner = el('div', 'banner', [], { role: 'status', 'data-role': 'dropped' });
droppedBanner.hidden = true;
const table = new VirtualTable(ROW_HEIGHT);
document.body.append(toolbar.root, title, toolbar.banner, droppedBanner, toolbar.status, table.root);

filter.addEventListener('input', () => {
  filterText = filter.value.trim().toLowerCase();
  applyFilter();
  render();
});
toolbar.root.querySelector('[data-action="pause"]')?.addEventListener('click', () => {
  if (!toolbar.paused) {
    whilePaused = 0;
    applyFilter();
  }
  queueRender();
});

function setUpColumns(first: Uint8Array): void {
  recordSize = first.length;
  const typeId = btf ? pickEventType(btf, recordSize, target?.eventType, eventStructs) : undefined;
  eventTypeId = typeId;
  // A variable-length record (shorter than its struct) is decoded as a prefix: the rest reads as zeros.
  if (btf && typeId !== undefined) recordSize = Math.max(recordSize, typeSize(btf, typeId));
  const layout = { keySize: 0, valueSize: recordSize, valueTypeId: typeId ?? 0, perCpu: false, possibleCpus: 1 };
  columns = buildTableColumns(layout, typeId ? btf : undefined, target?.columnFormats ?? {}).filter((c) => c.side === 'value');
  table.setHeaders([{ label: 'received', numeric: false }, ...columns.map((c) => ({ label: c.label.replace(/^value\.?/, '') || 'record', numeric: c.numeric }))]);
}

function padded(bytes: Uint8Array): Uint8Array {
  const full = new Uint8Array(recordSize);
  full.set(bytes);
  return full;
}

function takeEvents(message: EventsMessage): void {
  if (message.btf && !btf) {
    try {
      btf = parseBtf(message.btf);
    } catch (e) {
      btfError = (e as Error).message;
    }
  }
  if (message.eventStructs) eventStructs = message.eventStructs;
  let offset = 0;
  for (const length of message.lengths) {
    const bytes = message.records.subarray(offset, offset + length);
    offset += length;
    if (!columns) setUpColumns(bytes);
    const record = bytes.length < recordSize && eventTypeId !== undefined ? padded(bytes) : bytes;
    records.push({ time: message.time, bytes: record, dv: new DataView(record.buffer, record.byteOffset, record.byteLength) });
  }
  if (records.length > CAPACITY) records.splice(0, records.length - CAPACITY);
  received += message.lengths.length;
  dropped = Math.max(dropped, message.dropped);
  arrivals.push({ time: message.time, n: message.lengths.length });
  while (arrivals.length > 0 && arrivals[0].time < message.time - RATE_WINDOW_MS) arrivals.shift();
  if (toolbar.paused) whilePaused += message.lengths.length;
  else applyFilter();
  queueRender();
}

function cellText(r: StoredRecord, column: number): string {
  if (column === 0) return formatClock(r.time);
  const c = (columns as TableColumn[])[column - 1];
  if (r.bytes.length < recordSize) return '(short record)';
  return c.text(r.dv, 0);
}

/** Indexes into `records`, newest first, that match the filter. */
function applyFilter(): void {
  const out: number[] = [];
  const width = columns ? columns.length + 1 : 1;
  for (let i = records.length - 1; i >= 0; i--) {
    if (!filterText) {
      out.push(i);
      continue;
    }
    for (let c = 1; c < width; c++) {
      if (cellText(records[i], c).toLowerCase().includes(filterText)) {
        out.push(i);
        break;
      }
    }
  }
  shown = out;
}

function queueRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render(): void {
  const span = arrivals.length > 1 ? (arrivals[arrivals.length - 1].time - arrivals[0].time) / 1000 : 0;
  const inWindow = arrivals.slice(1).reduce((n, a) => n + a.n, 0);
  const rate = span > 0 ? inWindow / span : 0;
  if (!toolbar.paused) table.update(shown.length, { text: (row, col) => cellText(records[shown[row]], col) });
  droppedBanner.hidden = dropped === 0;
  setText(droppedBanner, `Dropped ${formatCount(dropped)} events (the agent's queue or the kernel buffer was full; the rate is higher than the view can take).`);
  const pausedNote = toolbar.paused ? ` · paused: ${formatCount(whilePaused)} new since` : '';
  const kept = records.length < received ? ` · keeping the last ${formatCount(records.length)}` : '';
  const decoding = btfError ? ` · BTF unreadable (${btfError}), records in hex` : !btf ? ' · no BTF: records in hex' : '';
  setText(toolbar.status, `${formatCount(received)} events · ${rate.toFixed(1)} events/s · ${formatCount(shown.length)} shown${kept}${pausedNote}${decoding}`);
}

function exportSnapshot(format: 'csv' | 'json'): void {
  const width = columns ? columns.length + 1 : 1;
  const name = `${target?.map ?? 'events'}.${format}`;
  if (format === 'csv') {
    const header = ['received', ...(columns ?? []).map((c) => c.label.replace(/^value\.?/, '') || 'record')];
    const lines = [header.map(csvField).join(',')];
    for (const i of shown) lines.push(Array.from({ length: width }, (_, c) => csvField(c === 0 ? new Date(records[i].time).toISOString() : cellText(records[i], c))).join(','));
    channel.send({ type: 'export', format, content: `${lines.join('\n')}\n`, suggestedName: name });
    return;
  }
  const read = btf && eventTypeId ? compileReader(btf, eventTypeId) : undefined;
  const out = shown.map((i) => ({ received: new Date(records[i].time).toISOString(), record: read && records[i].bytes.length >= recordSize ? read(records[i].dv, 0) : toHex(records[i].bytes) }));
  channel.send({ type: 'export', format, content: `${JSON.stringify(out, null, 1)}\n`, suggestedName: name });
}
