// The one schema of the agent protocol (protocol/agent-rpc.ts): every method's params and result, the error and
// event lines, and the line-size caps. The agent checks each request before use; clients check each reply.
import type {
  AgentErrorPayload, AgentEvent, AgentMethod, AgentMethods, AttachOptions, AttachPointsParams, AttachPointsResult, EventTypes, FeatureProbeResult,
  HelloResult, LoadParams, LoadResult, MapInfo, ProgramStats, ProgramVerdict, ReadMapParams, ReadMapResult, SessionMap, SessionProgram,
  MapSize, SessionSummary, StreamEventsParams, StackSymbolsParams, StackSymbolsResult, VerifyParams, VerifyResult,
} from './agent-rpc';
import { MAX_VERIFIER_LOG_BYTES, XDP_MODES } from './agent-rpc';
import { boolean, finite, integer, list, object, oneOf, optional, record, string, union, type Schema } from './value-checks';

/**
 * The longest request line the agent reads (bytes, newline excluded): a `load`/`verify` request carries the BPF
 * object as base64, at most MAX_OBJECT_BASE64 characters. Longer lines are skipped unread and answered with an error.
 */
export const MAX_REQUEST_LINE_BYTES = 64 * 1024 * 1024;
export const MAX_OBJECT_BASE64 = 48 * 1024 * 1024;
/**
 * The longest reply line a client reads: above the largest verifier log (MAX_VERIFIER_LOG_BYTES) JSON-escaped,
 * below V8's longest string (2^29 - 24 characters). A longer line ends the connection with a clear reason.
 */
export const MAX_REPLY_LINE_BYTES = 500 * 1024 * 1024;

const U32 = 2 ** 32 - 1;
/** PID_MAX_LIMIT (2^22); -1 means every process. */
const pid = integer(-1, 4 * 1024 * 1024);
const name = string({ max: 256, min: 1 });
const path = string({ max: 4096, min: 1, what: 'a path (at most 4096 characters)' });
const base64 = (max: number, min = 0) => string({ max, min, pattern: /^[A-Za-z0-9+/]*={0,2}$/, what: 'base64' });
const sessionId = string({ max: 64, min: 1 });
const count = integer(0, Number.MAX_SAFE_INTEGER);
const emptyParams: Schema<Record<string, never>> = object<Record<string, never>>({} as never, 'refuse');
const emptyResult: Schema<Record<string, never>> = object<Record<string, never>>({} as never, 'allow');

const attachOptions = object<AttachOptions>(
  {
    // IFNAMSIZ is 16 with the NUL.
    ifname: optional(string({ max: 15, min: 1, pattern: /^[\w.-]+$/, what: 'an interface name (letters, digits, _ . -; at most 15)' })),
    direction: optional(oneOf('ingress', 'egress')),
    cgroupPath: optional(path),
    binaryPath: optional(path),
    symbol: optional(string({ max: 1024, min: 1 })),
    usdtProvider: optional(name),
    usdtName: optional(name),
    pid: optional(pid),
    frequencyHz: optional(integer(1, 100_000)),
    xdpMode: optional(oneOf(...XDP_MODES)),
  },
  'refuse',
);

const mapSizes = record(object<MapSize>({ maxEntries: optional(integer(1, U32)), valueSize: optional(integer(1, U32)) }, 'refuse'), { maxKeys: 4096, keyMax: 256 });

const verifyParams = object<VerifyParams>(
  {
    object: base64(MAX_OBJECT_BASE64, 1),
    objectName: optional(name),
    programs: optional(list(name, 4096)),
    logLevel: optional(oneOf(1, 2)),
    mapSizes: optional(mapSizes),
  },
  'refuse',
);

const loadParams = object<LoadParams>(
  {
    object: base64(MAX_OBJECT_BASE64, 1),
    programs: optional(list(name, 4096)),
    globals: optional(record(union(finite(-Number.MAX_VALUE, Number.MAX_VALUE), union(string({ max: 4096 }), boolean, 'a string or true/false'), 'a number, string or true/false'), { maxKeys: 1024, keyMax: 256 })),
    attach: optional(record(attachOptions, { maxKeys: 4096, keyMax: 256 })),
    objectName: optional(name),
    noAttach: optional(boolean),
    stats: optional(boolean),
    mapSizes: optional(mapSizes),
    eventTypes: optional(object<EventTypes>({ btf: optional(base64(MAX_OBJECT_BASE64)), byMap: record(list(name, 64), { maxKeys: 4096, keyMax: 256 }) }, 'refuse')),
  },
  'refuse',
);

const readMapParams = object<ReadMapParams>(
  {
    session: optional(sessionId),
    map: optional(name),
    id: optional(integer(1, U32)),
    pinned: optional(path),
    maxEntries: optional(integer(1, U32)),
    cursor: optional(string({ max: 1 << 20, pattern: /^[bk]:[A-Za-z0-9+/]*={0,2}$/, what: 'a cursor from a previous readMap' })),
    withBtf: optional(boolean),
    remember: optional(boolean),
    since: optional(string({ max: 64 })),
  },
  'refuse',
);

const sessionParams = object<{ session: string }>({ session: sessionId }, 'refuse');
const streamParams = object<StreamEventsParams>({ session: sessionId, map: name, maxQueue: optional(integer(1, 1_000_000)) }, 'refuse');
const stopParams = object<{ session: string; map: string }>({ session: sessionId, map: name }, 'refuse');
const attachPointsParams = object<AttachPointsParams>(
  { kind: oneOf('tracepoint', 'function', 'btf'), prefix: optional(string({ max: 256 })), limit: optional(integer(1, 1_000_000)) },
  'refuse',
);
const stackSymbolsParams = object<StackSymbolsParams>(
  { pid: optional(integer(1, 1 << 22)), addresses: list(string({ max: 18, pattern: /^0x[0-9a-f]{1,16}$/, what: 'a hex address (0x…)' }), 1 << 16) },
  'refuse',
);

// Replies.
const text = (max: number) => string({ max });
/** Bytes in replies are decoded leniently (Buffer.from), so only their type and size are checked: no scan of 100 MB. */
const bytes = text(MAX_REPLY_LINE_BYTES);
const message = text(1 << 20);

const helloResult = object<HelloResult>(
  {
    kernelRelease: text(256), arch: text(64), btfPresent: boolean, btfSha256: optional(string({ max: 64, pattern: /^[0-9a-f]{64}$/, what: 'a sha256 (64 hex digits)' })),
    libbpfVersion: text(64), agentVersion: text(64), uid: integer(0, U32), lockdown: optional(text(64)), kprobes: optional(boolean),
  },
  'allow',
);

const programVerdict = object<ProgramVerdict>(
  {
    name: text(256), section: text(4096), accepted: boolean, errno: optional(integer(0, 4096)), log: text(MAX_VERIFIER_LOG_BYTES), logTruncated: boolean,
    logLevel: oneOf(1, 2), loaderMessages: list(message, 100_000), insnCount: count, insnsProcessed: optional(count), stackDepth: optional(list(count, 1024)),
    verificationTimeUs: optional(count),
  },
  'allow',
);
const verifyResult = object<VerifyResult>(
  {
    programs: list(programVerdict, 4096),
    skipped: optional(list(object({ name: text(256), section: text(4096), reason: message }, 'allow'), 4096)),
    sizedMaps: optional(list(object({ name: text(256), sizing: message }, 'allow'), 4096)),
  },
  'allow',
);

const sessionProgram = object<SessionProgram>(
  { name: text(256), section: text(4096), type: text(64), id: integer(0, U32), attached: boolean, attachError: optional(message), notLoaded: optional(message), attachNote: optional(message) },
  'allow',
);
const sessionMap = object<SessionMap>(
  {
    name: text(256), id: integer(0, U32), type: text(64), keySize: integer(0, U32), valueSize: integer(0, U32), maxEntries: integer(0, U32), internal: boolean,
    unreadable: optional(message), sizing: optional(message),
  },
  'allow',
);
const summaryShape = {
  session: sessionId, objectName: text(256), programs: list(sessionProgram, 4096), maps: list(sessionMap, 4096), statsEnabled: boolean,
  statsError: optional(message), streams: list(text(256), 4096),
};
const sessionSummary = object<SessionSummary>(summaryShape, 'allow');
const loadResult = object<LoadResult>({ ...summaryShape, btf: optional(bytes) }, 'allow');

const mapInfo = object<MapInfo>(
  {
    id: integer(0, U32), name: text(64), type: text(64), keySize: integer(0, U32), valueSize: integer(0, U32), maxEntries: integer(0, U32), flags: integer(0, U32),
    btfId: integer(0, U32), btfKeyTypeId: integer(0, U32), btfValueTypeId: integer(0, U32), perCpu: boolean,
  },
  'allow',
);
const readMapResult = object<ReadMapResult>(
  {
    map: mapInfo, possibleCpus: integer(1, 1 << 16), count, keys: bytes, values: bytes, cursor: optional(text(1 << 20)),
    method: oneOf('batch', 'iterate'), btf: optional(bytes), snapshot: optional(text(64)),
    delta: optional(object({ since: text(64), total: count, removedKeys: bytes, removedCount: count }, 'allow')),
    agentCpuMs: optional(finite(0, Number.MAX_VALUE)),
  },
  'allow',
);

const programStats = object<ProgramStats>({ name: text(256), section: text(4096), id: integer(0, U32), runCnt: count, runTimeNs: count }, 'allow');
const featureProbeResult = object<FeatureProbeResult>(
  { kernelRelease: text(256), programTypes: list(object({ type: text(64), supported: boolean, helpersProbed: boolean, helpers: list(text(128), 4096) }, 'allow'), 1024), elapsedMs: finite(0, Number.MAX_VALUE) },
  'allow',
);
const attachPointsResult = object<AttachPointsResult>({ names: list(text(4096), 1_000_000), truncated: boolean, unavailable: optional(message) }, 'allow');

type MethodSchemas = { [M in AgentMethod]: { params: Schema<AgentMethods[M]['params']>; result: Schema<AgentMethods[M]['result']> } };

/** Each method's params (checked by the agent before its handler runs) and result (checked by clients). */
export const AGENT_SCHEMA: MethodSchemas = {
  hello: { params: emptyParams, result: helloResult },
  verify: { params: verifyParams, result: verifyResult },
  btf: { params: emptyParams, result: object({ btf: bytes, sha256: string({ max: 64, pattern: /^[0-9a-f]{64}$/, what: 'a sha256 (64 hex digits)' }) }, 'allow') },
  load: { params: loadParams, result: loadResult },
  detach: { params: sessionParams, result: emptyResult },
  readMap: { params: readMapParams, result: readMapResult },
  objectBtf: { params: sessionParams, result: object<AgentMethods['objectBtf']['result']>({ btf: optional(bytes), eventStructs: optional(record(list(name, 64), { maxKeys: 4096, keyMax: 256 })) }, 'allow') },
  stats: { params: sessionParams, result: object({ programs: list(programStats, 4096), statsEnabled: boolean }, 'allow') },
  sessions: { params: emptyParams, result: object({ sessions: list(sessionSummary, 100_000) }, 'allow') },
  streamEvents: { params: streamParams, result: object({ map: text(256), kind: oneOf('ringbuf', 'perfbuf') }, 'allow') },
  stopEvents: { params: stopParams, result: emptyResult },
  featureProbe: { params: emptyParams, result: featureProbeResult },
  attachPoints: { params: attachPointsParams, result: attachPointsResult },
  stackSymbols: { params: stackSymbolsParams, result: object<StackSymbolsResult>({ frames: list(text(4096), 1 << 16), note: optional(message) }, 'allow') },
};

/** Whether `method` is a method of the protocol (an own key of the schema, so never `toString` or `constructor`). */
export function isAgentMethod(method: unknown): method is AgentMethod {
  return typeof method === 'string' && Object.hasOwn(AGENT_SCHEMA, method);
}

/** A request's id: a non-negative safe integer (replies to lines without one carry -1). */
export const requestId = integer(0, Number.MAX_SAFE_INTEGER);

export const errorPayload = object<AgentErrorPayload>({ message, code: optional(text(64)) }, 'allow');

export const agentEvent = object<AgentEvent>(
  { event: oneOf('records'), session: sessionId, map: text(256), records: list(bytes, 1_000_000), dropped: count },
  'allow',
);
