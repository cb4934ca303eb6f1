// Loads the live data recorded from a real probe (test/fixtures/live-data/syscall-latency.json, made by
// scripts/record-live-data.ts) and turns it into the messages the extension sends the live views.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MapInfo } from '../../protocol/agent-rpc';
import type { EventsMessage, MapDataMessage, ProgramStatsMessage } from '../../protocol/webview-messages';

interface RecordedMap {
  info: MapInfo;
  possibleCpus: number;
  btf?: string;
  snapshots: { time: number; readMs: number; count: number; keys: string; values: string }[];
}
export interface Recording {
  recordedAt: string;
  kernel: string;
  objectBtf: string;
  maps: Record<string, RecordedMap>;
  stats: { time: number; programs: ProgramStatsMessage['programs']; statsEnabled: boolean }[];
  events: { map: string; eventType: string; batches: { time: number; records: string[]; dropped: number }[] };
}

export const recording: Recording = JSON.parse(readFileSync(join(__dirname, '../fixtures/live-data/syscall-latency.json'), 'utf8'));

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

/** The i-th snapshot of a recorded map as a mapData message (with the map's BTF when asked, as the first one is). */
export function mapData(name: string, i: number, withBtf = i === 0): MapDataMessage {
  const m = recording.maps[name];
  const s = m.snapshots[i];
  const message: MapDataMessage = {
    type: 'mapData', time: s.time, readMs: s.readMs, info: m.info, possibleCpus: m.possibleCpus, count: s.count,
    keys: bytes(s.keys), values: bytes(s.values),
  };
  if (withBtf && m.btf) message.btf = bytes(m.btf);
  return message;
}

export function programStats(i: number): ProgramStatsMessage {
  const s = recording.stats[i];
  return { type: 'programStats', time: s.time, programs: s.programs, statsEnabled: s.statsEnabled };
}

export function eventsBatch(i: number): EventsMessage {
  const b = recording.events.batches[i];
  const parts = b.records.map(bytes);
  const records = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    records.set(p, offset);
    offset += p.length;
  }
  const message: EventsMessage = { type: 'events', time: b.time, map: recording.events.map, records, lengths: parts.map((p) => p.length), dropped: b.dropped };
  if (i === 0) message.btf = bytes(recording.objectBtf);
  return message;
}
