// The JSON-lines protocol between a client (editor or CLI) and the agent on a target.
// One request per line in, one response per line out (matched by id), plus unsolicited events.

export interface HelloResult {
  kernelRelease: string;
  arch: string;
  btfPresent: boolean;
  libbpfVersion: string;
  agentVersion: string;
  uid: number;
}

export interface ProgramVerdict {
  name: string;
  section: string;
  accepted: boolean;
  /** errno of the failed load, e.g. 13 (EACCES) for a verifier rejection, 1 (EPERM) under lockdown. */
  errno?: number;
  log: string;
  /** Figures the kernel reports for an accepted program (from the log's last line). */
  insnsProcessed?: number;
  stackDepth?: number[];
  verificationTimeUs?: number;
}

export interface VerifyParams {
  /** The BPF ELF object, base64. */
  object: string;
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
  | { id: number; error: { message: string; code?: string } };

/** Unsolicited: ring/perf buffer records of a session, batched, with a count of what was dropped. */
export interface AgentEvent {
  event: 'records';
  session: string;
  map: string;
  records: string[];
  dropped: number;
}
