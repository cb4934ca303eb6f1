// The JSON-lines protocol between a client (editor or CLI) and the agent on a target.
// One request per line in, one response per line out (matched by id), plus unsolicited events.

export interface HelloResult {
  kernelRelease: string;
  arch: string;
  btfPresent: boolean;
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
}
export interface VerifyResult {
  programs: ProgramVerdict[];
}

export interface LoadParams {
  object: string;
  /** Program names to load and attach; all when absent. */
  programs?: string[];
  /** Values for `const volatile` globals, by name, set before load. */
  globals?: Record<string, number | string | boolean>;
  /** Attach options by program name: interface for xdp/tc, cgroup path, binary for uprobes, pid. */
  attach?: Record<string, AttachOptions>;
}
export interface AttachOptions {
  ifname?: string;
  cgroupPath?: string;
  binaryPath?: string;
  symbol?: string;
  pid?: number;
  frequencyHz?: number;
}
export interface SessionProgram {
  name: string;
  section: string;
  id: number;
  attached: boolean;
  attachError?: string;
}
export interface SessionMap {
  name: string;
  id: number;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}
export interface LoadResult {
  session: string;
  programs: SessionProgram[];
  maps: SessionMap[];
  /** The object's BTF (raw .BTF section bytes), base64, so the client can decode map keys and values. */
  btf?: string;
}

export interface ReadMapParams {
  session?: string;
  map?: string;
  /** A map by id (any map on the target) or pinned path, for `maps dump`. */
  id?: number;
  pinned?: string;
  maxEntries?: number;
}
export interface ReadMapResult {
  /** Keys and values as base64 of the raw bytes, in the kernel's order. Per-CPU values are concatenated per CPU. */
  keys: string[];
  values: string[];
  possibleCpus: number;
  truncated: boolean;
}

export interface ProgramStats {
  name: string;
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
  stats: { params: { session: string }; result: { programs: ProgramStats[] } };
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
  dropped: number;
}
