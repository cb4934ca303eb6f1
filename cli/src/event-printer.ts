// Prints a run's ring/perf buffer records decoded through BTF: one JSON line per event ({t, target, events: map,
// fields}) or, in text mode, a table per interval; at most a fixed number per interval, the rest counted with the
// agent's drop count. Pure formatting over bytes the agent streamed; talks to the output stream only.
import type { Writable } from 'node:stream';
import { type Btf, typeSize } from '../../engine/btf/btf-types';
import { compileReader, toHex, type DecodedValue, type FieldReader } from '../../engine/btf/value-decoder';
import { pickEventType } from '../../engine/live-data/event-type';

/** What is known about one buffer map's records before the first arrives. */
export interface EventSource {
  map: string;
  /** The struct a template names for this map. */
  declared?: string;
  /** Struct names the program passes to this map, from its source. */
  sourceNames: string[];
}

const TEXT_ROWS_PER_INTERVAL = 20;
const JSON_EVENTS_PER_INTERVAL = 10_000;
const CELL_WIDTH = 48;

interface MapState {
  source: EventSource;
  decoders: Map<number, { read: FieldReader; size: number } | undefined>;
  received: number;
  dropped: number;
  /** Decoded but not printed this interval (over the limit). */
  skipped: number;
  rows: Record<string, DecodedValue>[];
}

/** Leaf fields of a decoded struct as dotted names (arrays stay one cell). */
function flatten(value: DecodedValue, prefix: string, into: Record<string, DecodedValue>): Record<string, DecodedValue> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, into);
  } else into[prefix || 'record'] = value;
  return into;
}

function cell(value: DecodedValue): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > CELL_WIDTH ? `${text.slice(0, CELL_WIDTH - 1)}…` : text;
}

export class EventPrinter {
  private readonly maps = new Map<string, MapState>();

  constructor(
    private readonly out: Writable,
    private readonly format: 'text' | 'json',
    private readonly target: string,
    private readonly btf: Btf | undefined,
    sources: EventSource[],
  ) {
    for (const source of sources) this.maps.set(source.map, { source, decoders: new Map(), received: 0, dropped: 0, skipped: 0, rows: [] });
  }

  /** The record decoded through the map's struct (a short record is a prefix of it), or its bytes in hex. */
  decode(map: string, record: Buffer): Record<string, DecodedValue> {
    const state = this.maps.get(map);
    if (!state || !this.btf) return { record: toHex(record) };
    if (!state.decoders.has(record.length)) {
      const id = pickEventType(this.btf, record.length, state.source.declared, state.source.sourceNames);
      state.decoders.set(record.length, id === undefined ? undefined : { read: compileReader(this.btf, id), size: typeSize(this.btf, id) });
    }
    const decoder = state.decoders.get(record.length);
    if (!decoder) return { record: toHex(record) };
    const bytes = record.length >= decoder.size ? record : Buffer.concat([record, Buffer.alloc(decoder.size - record.length)]);
    const value = decoder.read(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, DecodedValue>) : { value };
  }

  /** Records of one `records` event from the agent; `dropped` is its cumulative count. */
  take(map: string, records: string[], dropped: number, t: number): void {
    const state = this.maps.get(map);
    if (!state) return;
    state.received += records.length;
    state.dropped = dropped;
    const limit = this.format === 'json' ? JSON_EVENTS_PER_INTERVAL : TEXT_ROWS_PER_INTERVAL;
    for (const record of records) {
      if (state.rows.length >= limit) {
        state.skipped++;
        continue;
      }
      const fields = this.decode(map, Buffer.from(record, 'base64'));
      state.rows.push(fields);
      if (this.format === 'json') this.out.write(`${JSON.stringify({ t, target: this.target, events: map, fields })}\n`);
    }
  }

  /** Ends an interval: the text table (or, in JSON, a line with what was dropped or not printed), then starts anew. */
  flush(t: number): void {
    for (const [map, state] of this.maps) {
      if (this.format === 'json') {
        if (state.skipped || state.dropped) this.out.write(`${JSON.stringify({ t, target: this.target, events: map, received: state.received, dropped: state.dropped, notPrinted: state.skipped })}\n`);
      } else {
        this.out.write(this.table(map, state));
      }
      state.rows = [];
      state.skipped = 0;
    }
  }

  private table(map: string, state: MapState): string {
    const lines = [`  events ${map}: ${state.received} received, ${state.dropped} dropped`];
    const rows = state.rows.map((r) => flatten(r, '', {}));
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    if (rows.length) {
      const cells = rows.map((r) => columns.map((c) => (c in r ? cell(r[c]) : '')));
      const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
      const line = (values: string[]) => `    ${values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()}`;
      lines.push(line(columns), ...cells.map(line));
    }
    if (state.skipped) lines.push(`    … ${state.skipped} more this interval (at most ${TEXT_ROWS_PER_INTERVAL} shown per interval; --format json prints every event)`);
    return `${lines.join('\n')}\n`;
  }
}
