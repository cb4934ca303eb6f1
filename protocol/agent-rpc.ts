// The JSON-lines protocol between a client (editor or CLI) and the agent on a target.
// One request per line in, one response per line out (matched by id), plus unsolicited events.

export interface HelloResult {
  kernelRelease: string;
  arch: string;
  btfPresent: boolean;
  /** sha256 of /sys/kernel/btf/vmlinux, so a client can find its cached vmlinux.h without fetching the BTF. */
  btfSha256?: string;
  libbpfVersion: string;
  agentVersion: string;
  uid: number;
  /** Kernel lockdown mode when securityfs shows it ("none", "integrity", "confidentiality"). */
  lockdown?: string;
  /** Whether the kernel has kprobes (tracefs kprobe_events exists); unknown when tracefs is not mounted. */
  kprobes?: boolean;
}

export interface ProgramVerdict {
  name: string;
  section: string;
  accepted: boolean;
  /** errno of the failed load, e.g. 13 (EACCES) for a verifier rejection, 1 (EPERM) under lockdown. */
  errno?: number;
  /** The kernel's whole verifier log for this program (the buffer grows until the kernel stops saying ENOSPC). */
  log: string;
  /** True when the log still did not fit the largest buffer; the kernel then keeps the log's tail. */
  logTruncated: boolean;
  /** 1: the failing path only (the kernel drops finished paths); 2: every instruction's state on every path. */
  logLevel: 1 | 2;
  /** libbpf's own warnings while opening and loading (relocation failures, missing BTF, EPERM hints). */
  loaderMessages: string[];
  /** Instructions in the program as compiled (before verification). */
  insnCount: number;
  /** Figures the kernel reports (from the log's last lines; present for rejected programs too when printed). */
  insnsProcessed?: number;
  /** Stack depth per function (main program first, then subprograms), bytes. */
  stackDepth?: number[];
  verificationTimeUs?: number;
}

export interface VerifyParams {
  /** The BPF ELF object, base64. */
  object: string;
  /** File name used in libbpf messages, e.g. "probe.bpf.o". */
  objectName?: string;
  /** Verify only these programs (by function name); all when absent. */
  programs?: string[];
  /** 1 (default) keeps the failing path; 2 logs every instruction's state (much larger). */
  logLevel?: 1 | 2;
  /** Map sizes set before load, as `load` takes them; maps the source leaves unsized get the same defaults as there. */
  mapSizes?: Record<string, MapSize>;
}
export interface VerifyResult {
  programs: ProgramVerdict[];
  /** Programs not verified: SEC("?...") ones libbpf does not load by default, or ones not in `programs`. */
  skipped?: { name: string; section: string; reason: string }[];
  /** Maps whose size was set before load (asked for, or a default), with how: as SessionMap.sizing. */
  sizedMaps?: { name: string; sizing: string }[];
}

export interface LoadParams {
  object: string;
  /** Program names to load and attach; all when absent. */
  programs?: string[];
  /** Values for `const volatile` globals, by name, set before load. */
  globals?: Record<string, number | string | boolean>;
  /** Attach options by program name ("*": every program without its own): interface for xdp/tc, cgroup path, binary for uprobes, pid. */
  attach?: Record<string, AttachOptions>;
  /** File name used in messages, e.g. "probe.bpf.o". */
  objectName?: string;
  /** Load only, attach nothing (default false). */
  noAttach?: boolean;
  /** Count run_cnt/run_time_ns while the session lives, via a BPF_ENABLE_STATS fd it holds (default true). */
  stats?: boolean;
  /** Map sizes set before load, by map name (as a tool's user space does with bpf_map__set_max_entries/value_size). */
  mapSizes?: Record<string, MapSize>;
  /** How to decode the session's ring/perf buffer records, kept with the session and handed out by `objectBtf`. */
  eventTypes?: EventTypes;
}
export interface EventTypes {
  /** Raw BTF (base64) holding every struct the probe defines (the object's own BTF lacks those used only through locals). */
  btf?: string;
  /** Per ring/perf buffer map: the struct names the program passes to it, best first (from its source). */
  byMap: Record<string, string[]>;
}
export interface MapSize {
  maxEntries?: number;
  valueSize?: number;
}
export interface AttachOptions {
  ifname?: string;
  /** tc programs: which side of the interface (default ingress). */
  direction?: 'ingress' | 'egress';
  cgroupPath?: string;
  binaryPath?: string;
  symbol?: string;
  /** usdt programs: provider and probe name (else taken from the section usdt/binary:provider:name). */
  usdtProvider?: string;
  usdtName?: string;
  pid?: number;
  /** perf_event programs: samples per second on every CPU (default 99). */
  frequencyHz?: number;
  /** xdp programs: native (driver), generic (SKB) or offload (NIC); absent: native, falling back to generic. */
  xdpMode?: XdpMode;
}
export type XdpMode = 'native' | 'generic' | 'offload';
export const XDP_MODES: readonly XdpMode[] = ['native', 'generic', 'offload'];
export interface SessionProgram {
  name: string;
  section: string;
  /** Program type as libbpf names it: "tracepoint", "xdp", "sched_cls"… */
  type: string;
  id: number;
  attached: boolean;
  attachError?: string;
  /** Not loaded: another variant of the same handler was chosen, or the verifier rejected it (the others still run). */
  notLoaded?: string;
  /** How it was attached when that needed a choice (e.g. XDP fell back to generic mode). */
  attachNote?: string;
}
export interface SessionMap {
  name: string;
  id: number;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** .rodata/.data/.bss/.kconfig maps libbpf creates for globals. */
  internal: boolean;
  /** Why user space cannot read its entries (cgroup/prog/perf-event arrays, ring buffers, sockmaps…); absent when readable. */
  unreadable?: string;
  /** How its size was chosen when the object left it unset or the user set it. */
  sizing?: string;
}
/** One session: what it loaded, what is attached, which event streams run. */
export interface SessionSummary {
  session: string;
  objectName: string;
  programs: SessionProgram[];
  maps: SessionMap[];
  statsEnabled: boolean;
  /** Why run-time statistics could not be enabled (e.g. kernel older than 5.8). */
  statsError?: string;
  /** Maps whose ring/perf buffer is being streamed as `records` events. */
  streams: string[];
}
export interface LoadResult extends SessionSummary {
  /** The object's BTF (raw .BTF section bytes), base64, so the client can decode map keys and values. */
  btf?: string;
}

export interface StreamEventsParams {
  session: string;
  /** A BPF_MAP_TYPE_RINGBUF or BPF_MAP_TYPE_PERF_EVENT_ARRAY map of the session. */
  map: string;
  /** Records held while waiting to be sent; beyond it records are dropped and counted (default 4096). */
  maxQueue?: number;
}

export interface FeatureProbeResult {
  kernelRelease: string;
  /**
   * Every program type libbpf knows, whether this kernel loads it, and the helpers it may call (names without the bpf_
   * prefix); helpersProbed is false where a bare program cannot tell (types that need a BTF attach target, or unsupported).
   */
  programTypes: { type: string; supported: boolean; helpersProbed: boolean; helpers: string[] }[];
  elapsedMs: number;
}

export interface AttachPointsParams {
  /** tracepoint ("category/name"), function (available_filter_functions), btf (BTF FUNC names, for fentry/tp_btf). */
  kind: 'tracepoint' | 'function' | 'btf';
  prefix?: string;
  /** At most this many names (default 5000). */
  limit?: number;
}
/** Stack addresses (hex, as stack-trace maps hold them) to name: kernel ones, and user ones of process `pid`. */
export interface StackSymbolsParams {
  pid?: number;
  addresses: string[];
}
export interface StackSymbolsResult {
  /** Per address: `function+0xoffset` (kernel), `function+0xoffset (file)` or `0xaddress (file)` (user), or the address itself. */
  frames: string[];
  /** Set when a kind of frame could not be named, with why (e.g. the process has exited). */
  note?: string;
}

export interface AttachPointsResult {
  names: string[];
  truncated: boolean;
  /** Set when the list could not be read (e.g. available_filter_functions not readable), with what to do. */
  unavailable?: string;
}

export interface ReadMapParams {
  /** A map of a session by its name… */
  session?: string;
  map?: string;
  /** …or any map on the target by id or pinned path (`maps dump`). */
  id?: number;
  pinned?: string;
  /** Entries per chunk (default 65536); when more remain, the result has a `cursor` to pass back. */
  maxEntries?: number;
  /** Continue after the previous chunk (its result's `cursor`); absent = from the start. */
  cursor?: string;
  /** Also return the map's BTF (raw bytes); clients ask once per btfId and cache it. */
  withBtf?: boolean;
  /** Keep this read on the agent and return a `snapshot` token for a later `since` (whole map, no cursor). */
  remember?: boolean;
  /** Answer with only what changed since the read this token names (`delta`); a full read when it is unknown. */
  since?: string;
}
/** What the kernel says about a map (bpf_map_info). */
export interface MapInfo {
  id: number;
  name: string;
  /** Map type without the BPF_MAP_TYPE_ prefix, lower case: "hash", "percpu_array", "ringbuf"… */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** BTF object id of the map (0 when it has none) and the key/value type ids in it. */
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** Values are one per possible CPU (each rounded up to 8 bytes). */
  perCpu: boolean;
}
export interface ReadMapResult {
  map: MapInfo;
  possibleCpus: number;
  /** Entries in this chunk. */
  count: number;
  /** base64 of the keys back to back (count × keySize bytes), in the kernel's order. */
  keys: string;
  /** base64 of the values back to back (count × stride; per-CPU: possibleCpus × valueSize rounded up to 8). */
  values: string;
  /** Present when more entries follow: pass it back as `cursor` for the next chunk. */
  cursor?: string;
  /** "batch" (bpf_map_lookup_batch) or "iterate" (get_next_key + lookup, older kernels). */
  method: 'batch' | 'iterate';
  /** base64 of the map's raw BTF, when asked with `withBtf` and the map has BTF. */
  btf?: string;
  /** With `remember`: the token of this read, for the next request's `since`. */
  snapshot?: string;
  /** With a known `since`: keys/values hold only new and changed entries; these keys are gone. */
  delta?: { since: string; total: number; removedKeys: string; removedCount: number };
  /** CPU time (user + system) this read cost the agent, ms. */
  agentCpuMs?: number;
}

export interface ProgramStats {
  name: string;
  section: string;
  id: number;
  runCnt: number;
  runTimeNs: number;
}

export interface AgentMethods {
  hello: { params: Record<string, never>; result: HelloResult };
  verify: { params: VerifyParams; result: VerifyResult };
  btf: { params: Record<string, never>; result: { btf: string; sha256: string } };
  load: { params: LoadParams; result: LoadResult };
  detach: { params: { session: string }; result: Record<string, never> };
  readMap: { params: ReadMapParams; result: ReadMapResult };
  /** The BTF (base64) to decode a session's ring/perf buffer records with (the load's eventTypes, else the object's), and the struct names per map. */
  objectBtf: { params: { session: string }; result: { btf?: string; eventStructs?: Record<string, string[]> } };
  stats: { params: { session: string }; result: { programs: ProgramStats[]; statsEnabled: boolean } };
  sessions: { params: Record<string, never>; result: { sessions: SessionSummary[] } };
  streamEvents: { params: StreamEventsParams; result: { map: string; kind: 'ringbuf' | 'perfbuf' } };
  stopEvents: { params: { session: string; map: string }; result: Record<string, never> };
  featureProbe: { params: Record<string, never>; result: FeatureProbeResult };
  attachPoints: { params: AttachPointsParams; result: AttachPointsResult };
  stackSymbols: { params: StackSymbolsParams; result: StackSymbolsResult };
}

export type AgentMethod = keyof AgentMethods;

export interface AgentRequest<M extends AgentMethod = AgentMethod> {
  id: number;
  method: M;
  params: AgentMethods[M]['params'];
}

export type AgentResponse =
  | { id: number; result: unknown }
  | { id: number; error: AgentErrorPayload };

/** A failed request: a message the user can act on, and a stable code callers may branch on. */
export interface AgentErrorPayload {
  message: string;
  code?: string;
}

/** Reported by hello; bump when a method's shape changes so clients can refuse an outdated agent. */
export const AGENT_VERSION = '0.1.0';

/** The largest verifier log the agent asks the kernel for, bytes. */
export const MAX_VERIFIER_LOG_BYTES = 256 * 1024 * 1024;

/** Unsolicited: ring/perf buffer records of a session, batched, with a count of what was dropped. */
export interface AgentEvent {
  event: 'records';
  session: string;
  map: string;
  records: string[];
  /** Records lost so far on this stream (queue full, or the kernel's perf buffer overran), cumulative. */
  dropped: number;
}
