// The agent's live sessions: each is one loaded object with its programs, links, maps, the BPF_ENABLE_STATS fd
// and event streams, all held by file descriptor. Detach releases them; exit of the agent releases everything.
import type { EventTypes, SessionMap, SessionProgram, SessionSummary } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { libbpf, type BpfLink, type BpfMap, type BpfObject, type BpfProgram } from './ffi/libbpf';
import { libc } from './ffi/libc';
import { removeSessionPins } from './session-pins';

export interface HeldLink {
  /** A libbpf link (destroyed with bpf_link__destroy) or a raw link fd (closed). */
  link?: BpfLink;
  fd?: number;
}

export interface LiveProgram extends SessionProgram {
  prog: BpfProgram;
  fd: number;
  links: HeldLink[];
}

export interface LiveMap extends SessionMap {
  map: BpfMap;
  fd: number;
}

/** A running ring/perf buffer reader; stop() frees it. */
export interface EventStream {
  map: string;
  stop(): void;
}

export interface Session {
  id: string;
  objectName: string;
  obj: BpfObject;
  /** Where maps declared with LIBBPF_PIN_BY_NAME are pinned; removed on release. */
  pinRoot: string;
  programs: LiveProgram[];
  /** Programs of the object left out: variants not chosen, or refused by the kernel while the others loaded. */
  notLoaded: { name: string; section: string; reason: string }[];
  maps: LiveMap[];
  /** The fd returned by BPF_ENABLE_STATS: run_cnt/run_time_ns are counted while any such fd is open. */
  statsFd?: number;
  statsError?: string;
  streams: Map<string, EventStream>;
  /** What the client sent for decoding ring/perf buffer records. */
  eventTypes?: EventTypes;
  /** Kept referenced until the object is closed (libbpf reads it while loading). */
  keepAlive: unknown[];
  createdAt: number;
}

const sessions = new Map<string, Session>();
let nextSession = 1;

export function newSessionId(): string {
  return `s${nextSession++}`;
}

export function registerSession(session: Session): void {
  sessions.set(session.id, session);
}

export function getSession(id: unknown): Session {
  const session = typeof id === 'string' ? sessions.get(id) : undefined;
  if (!session) {
    const known = [...sessions.keys()];
    throw new AgentError(`No session "${String(id)}" on this agent${known.length ? ` (open sessions: ${known.join(', ')})` : ' (nothing is loaded)'}; load the probe again.`, 'ENOSESSION');
  }
  return session;
}

export function allSessions(): Session[] {
  return [...sessions.values()];
}

/** At exit: the kernel closes every fd, but pins are files; remove them. */
export function removeAllPins(): void {
  for (const session of sessions.values()) removeSessionPins(session.obj, session.pinRoot);
}

/** Releases links, streams, the stats fd and the object (which closes program and map fds). */
export function releaseSession(session: Session): void {
  const bpf = libbpf();
  for (const stream of session.streams.values()) stream.stop();
  session.streams.clear();
  for (const program of session.programs) {
    for (const held of program.links) {
      if (held.link) bpf.linkDestroy(held.link);
      if (held.fd !== undefined) libc().close(held.fd);
    }
    program.links = [];
    program.attached = false;
  }
  if (session.statsFd !== undefined) libc().close(session.statsFd);
  session.statsFd = undefined;
  removeSessionPins(session.obj, session.pinRoot);
  bpf.closeObject(session.obj);
  session.keepAlive = [];
  sessions.delete(session.id);
}

export function summarize(session: Session): SessionSummary {
  return {
    session: session.id,
    objectName: session.objectName,
    programs: [
      ...session.programs.map(({ name, section, id, attached, attachError, attachNote, type }) => ({ name, section, id, attached, type, ...(attachError ? { attachError } : {}), ...(attachNote ? { attachNote } : {}) })),
      ...session.notLoaded.map(({ name, section, reason }) => ({ name, section, id: 0, attached: false, type: '', notLoaded: reason })),
    ],
    maps: session.maps.map(({ name, id, type, keySize, valueSize, maxEntries, internal, unreadable, sizing }) => ({
      name, id, type, keySize, valueSize, maxEntries, internal, ...(unreadable ? { unreadable } : {}), ...(sizing ? { sizing } : {}),
    })),
    statsEnabled: session.statsFd !== undefined,
    ...(session.statsError ? { statsError: session.statsError } : {}),
    streams: [...session.streams.keys()],
  };
}

/** The `detach` method: releases one session; the kernel frees its programs once the last fd is closed. */
export function detachSession(params: { session: string }): Record<string, never> {
  releaseSession(getSession(params?.session));
  return {};
}

/** The `sessions` method: every open session with its programs and maps. */
export function listSessions(): { sessions: SessionSummary[] } {
  return { sessions: allSessions().map(summarize) };
}

/** A session map's fd by name, for readMap (undefined when the session or map is gone). */
export function sessionMapFd(session: string, map: string): number | undefined {
  return sessions.get(session)?.maps.find((m) => m.name === map)?.fd;
}
