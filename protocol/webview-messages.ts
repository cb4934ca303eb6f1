// Typed messages between the extension and the live-view webviews (map, histogram, program, events), both
// directions, with validators each side runs on receipt. Data is sent only after the webview says `ready`.
import type { MapInfo } from './agent-rpc';

export type LiveViewKind = 'map' | 'histogram' | 'program' | 'events';
export const LIVE_VIEW_KINDS: readonly LiveViewKind[] = ['map', 'histogram', 'program', 'events'];

export type HistogramScale = 'log2' | 'linear';
export type HistogramUnit = 'ns' | 'us' | 'ms' | '';

/** How to read a histogram map; detected from the map's shape unless a template declares it. */
export interface HistogramSpec {
  scale: HistogramScale;
  /** Unit of the bucketed values; '' when unknown (ranges are shown as plain numbers). */
  unit: HistogramUnit;
  /** Linear histograms: value of slot 0 and width of a slot. */
  base?: number;
  step?: number;
  /** The value field holding the slot counts, when it is not one of slots/buckets/hist/counts. */
  slotsField?: string;
  /** A value field naming each key's histogram (default `comm`). */
  labelField?: string;
}

export type ColumnFormat = 'ipv4' | 'ipv6' | 'hex';

/** What a panel shows, kept by the webview (setState) so the panel can be restored after a reload. */
export interface LiveViewTarget {
  view: LiveViewKind;
  title: string;
  target: string;
  /** The map by session and name, by id, or pinned path (map, histogram, events views). */
  session?: string;
  map?: string;
  mapId?: number;
  pinned?: string;
  histogram?: HistogramSpec;
  columnFormats?: Record<string, ColumnFormat>;
  /** Events view: the BTF struct name of one record (else guessed from the record size). */
  eventType?: string;
}

export interface InitMessage {
  type: 'init';
  target: LiveViewTarget;
  refreshIntervalMs: number;
  paused: boolean;
}

export interface MapDataMessage {
  type: 'mapData';
  /** Wall-clock time of the read, ms since the epoch. */
  time: number;
  /** How long the read took, ms. */
  readMs: number;
  info: MapInfo;
  possibleCpus: number;
  count: number;
  /** Keys back to back (count × keySize), values back to back (count × stride). */
  keys: Uint8Array;
  values: Uint8Array;
  /** The map's raw BTF; sent with the first snapshot of each BTF id only. */
  btf?: Uint8Array;
  /** How often the view reads the map and why, e.g. "refreshing every 5 s: 100,000 entries (…)". */
  refreshNote?: string;
  /** Stack-trace maps: names of addresses not sent before (hex address → `function+0xoffset`). */
  frameNames?: Record<string, string>;
}

export interface ProgramStatsMessage {
  type: 'programStats';
  time: number;
  programs: { name: string; id: number; runCnt: number; runTimeNs: number }[];
  statsEnabled: boolean;
  statsError?: string;
}

export interface EventsMessage {
  type: 'events';
  time: number;
  map: string;
  /** Records back to back; `lengths[i]` bytes each. */
  records: Uint8Array;
  lengths: number[];
  /** Records the agent dropped so far on this stream (cumulative). */
  dropped: number;
  /** The BTF to decode records with (every struct of the probe, else the object's), with the first batch only. */
  btf?: Uint8Array;
  /** The struct names the program passes to this map (from its source), best first; with the first batch only. */
  eventStructs?: string[];
}

/** The state of the feed: live, paused by the user, or stopped with the reason (map gone, agent closed…). */
export interface StatusMessage {
  type: 'status';
  state: 'live' | 'paused' | 'gone' | 'error';
  message?: string;
}

/** The Export Snapshot command: the view answers with an `export` message of its current snapshot. */
export interface ExportRequestMessage {
  type: 'exportRequest';
  format: 'csv' | 'json';
}

export type HostToWebview = InitMessage | MapDataMessage | ProgramStatsMessage | EventsMessage | StatusMessage | ExportRequestMessage;

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'setPaused'; paused: boolean }
  | { type: 'setRefreshInterval'; ms: number }
  | { type: 'export'; format: 'csv' | 'json'; content: string; suggestedName: string }
  | { type: 'openAsText'; content: string; suggestedName: string };

export const MIN_REFRESH_MS = 100;
export const MAX_REFRESH_MS = 60_000;

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optional = <T>(v: unknown, check: (x: unknown) => x is T) => v === undefined || check(v);
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

function isHistogramSpec(v: unknown): v is HistogramSpec {
  return isObject(v) && (v.scale === 'log2' || v.scale === 'linear') && ['ns', 'us', 'ms', ''].includes(v.unit as string) &&
    optional(v.base, isFiniteNumber) && optional(v.step, isFiniteNumber) && optional(v.slotsField, isString) && optional(v.labelField, isString);
}

function isViewTarget(v: unknown): v is LiveViewTarget {
  if (!isObject(v)) return false;
  return LIVE_VIEW_KINDS.includes(v.view as LiveViewKind) && isString(v.title) && isString(v.target) &&
    optional(v.session, isString) && optional(v.map, isString) && optional(v.mapId, isCount) && optional(v.pinned, isString) &&
    optional(v.histogram, isHistogramSpec) && optional(v.eventType, isString) &&
    (v.columnFormats === undefined || (isObject(v.columnFormats) && Object.values(v.columnFormats).every((f) => f === 'ipv4' || f === 'ipv6' || f === 'hex')));
}

function isMapInfo(v: unknown): v is MapInfo {
  return isObject(v) && isCount(v.id) && isString(v.name) && isString(v.type) && isCount(v.keySize) && isCount(v.valueSize) &&
    isCount(v.maxEntries) && isCount(v.btfId) && isCount(v.btfKeyTypeId) && isCount(v.btfValueTypeId) && typeof v.perCpu === 'boolean';
}

/** Validates a message from the extension; undefined (ignored) when it is not one. */
export function parseHostMessage(v: unknown): HostToWebview | undefined {
  if (!isObject(v)) return undefined;
  switch (v.type) {
    case 'init':
      return isViewTarget(v.target) && isFiniteNumber(v.refreshIntervalMs) && typeof v.paused === 'boolean' ? (v as unknown as InitMessage) : undefined;
    case 'mapData': {
      if (!(isFiniteNumber(v.time) && isFiniteNumber(v.readMs) && isMapInfo(v.info) && isCount(v.possibleCpus) && v.possibleCpus > 0 &&
        isCount(v.count) && isBytes(v.keys) && isBytes(v.values) && optional(v.btf, isBytes) && optional(v.refreshNote, isString) &&
        optional(v.frameNames, (n): n is Fields => isObject(n) && Object.values(n).every(isString)))) return undefined;
      const info = v.info;
      const stride = info.perCpu ? Math.ceil(info.valueSize / 8) * 8 * (v.possibleCpus as number) : info.valueSize;
      const count = v.count as number;
      if ((v.keys as Uint8Array).length < count * info.keySize || (v.values as Uint8Array).length < count * stride) return undefined;
      return v as unknown as MapDataMessage;
    }
    case 'programStats':
      return isFiniteNumber(v.time) && Array.isArray(v.programs) && typeof v.statsEnabled === 'boolean' && optional(v.statsError, isString) &&
        v.programs.every((p) => isObject(p) && isString(p.name) && isCount(p.id) && isFiniteNumber(p.runCnt) && isFiniteNumber(p.runTimeNs))
        ? (v as unknown as ProgramStatsMessage) : undefined;
    case 'events': {
      if (!(isFiniteNumber(v.time) && isString(v.map) && isBytes(v.records) && Array.isArray(v.lengths) && v.lengths.every(isCount) &&
        isCount(v.dropped) && optional(v.btf, isBytes) && optional(v.eventStructs, (n) => Array.isArray(n) && n.every(isString)))) return undefined;
      const total = (v.lengths as number[]).reduce((a, b) => a + b, 0);
      return total <= (v.records as Uint8Array).length ? (v as unknown as EventsMessage) : undefined;
    }
    case 'status':
      return ['live', 'paused', 'gone', 'error'].includes(v.state as string) && optional(v.message, isString) ? (v as unknown as StatusMessage) : undefined;
    case 'exportRequest':
      return v.format === 'csv' || v.format === 'json' ? { type: 'exportRequest', format: v.format } : undefined;
    default:
      return undefined;
  }
}

/** Validates a message from a webview; undefined (ignored) when it is not one. */
export function parseWebviewMessage(v: unknown): WebviewToHost | undefined {
  if (!isObject(v)) return undefined;
  switch (v.type) {
    case 'ready':
      return { type: 'ready' };
    case 'setPaused':
      return typeof v.paused === 'boolean' ? { type: 'setPaused', paused: v.paused } : undefined;
    case 'setRefreshInterval':
      return isFiniteNumber(v.ms) && v.ms >= MIN_REFRESH_MS && v.ms <= MAX_REFRESH_MS ? { type: 'setRefreshInterval', ms: v.ms } : undefined;
    case 'export':
      return (v.format === 'csv' || v.format === 'json') && isString(v.content) && isString(v.suggestedName)
        ? { type: 'export', format: v.format, content: v.content, suggestedName: v.suggestedName } : undefined;
    case 'openAsText':
      return isString(v.content) && isString(v.suggestedName) ? { type: 'openAsText', content: v.content, suggestedName: v.suggestedName } : undefined;
    default:
      return undefined;
  }
}

/** Validates what a webview saved with setState, for restoring a panel after a reload. */
export function parseSavedViewState(v: unknown): LiveViewTarget | undefined {
  return isObject(v) && isViewTarget(v.target) ? v.target : undefined;
}
