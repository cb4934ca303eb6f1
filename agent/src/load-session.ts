// The `load` method: opens an object, keeps only the chosen programs, sets `const volatile` globals, loads it,
// enables run-time statistics for the session (BPF_ENABLE_STATS fd), and attaches each program by its section.
import type { LoadParams, LoadResult } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { AttachFailure, attachProgram } from './attach-program';
import { libbpf, type BpfMap, type BpfObject, type BpfProgram } from './ffi/libbpf';
import { loadFailure, type ProgramPlan } from './load-failure';
import { setObjectGlobals } from './object-globals';
import { newSessionId, registerSession, releaseSession, summarize, type LiveMap, type LiveProgram, type Session } from './sessions';

const BPF_STATS_RUN_TIME = 0;
const PROG_INFO_SIZE = 232;
const MAP_INFO_SIZE = 96;
/** Where libbpf puts the verifier log of a rejected program; the kernel (6.4+) keeps the log's tail when it is longer. */
const FAILURE_LOG_BYTES = 1024 * 1024;

function programInfo(fd: number): { id: number } {
  const info = libbpf().objInfo(fd, PROG_INFO_SIZE);
  return typeof info === 'number' ? { id: 0 } : { id: info.readUInt32LE(4) };
}

function mapEntry(map: BpfMap, name: string): LiveMap {
  const b = libbpf();
  const fd = b.mapFd(map);
  const info = b.objInfo(fd, MAP_INFO_SIZE);
  if (typeof info === 'number') throw new AgentError(`Cannot read the kernel's info of map ${name} (error ${info}).`, 'EMAPINFO');
  return {
    map,
    fd,
    name,
    id: info.readUInt32LE(4),
    type: b.mapTypeName(info.readUInt32LE(0)),
    keySize: info.readUInt32LE(8),
    valueSize: info.readUInt32LE(12),
    maxEntries: info.readUInt32LE(16),
    internal: b.mapIsInternal(map),
  };
}

export async function loadSession(params: LoadParams): Promise<LoadResult> {
  if (typeof params?.object !== 'string' || params.object.length === 0) {
    throw new AgentError('load needs `object`: the BPF ELF object as base64.', 'EINVAL');
  }
  if (params.programs !== undefined && (!Array.isArray(params.programs) || params.programs.some((n) => typeof n !== 'string'))) {
    throw new AgentError('load `programs` must be a list of program names.', 'EINVAL');
  }
  const lib = libbpf();
  const bytes = Buffer.from(params.object, 'base64');
  const objectName = params.objectName ?? 'probe.bpf.o';
  const failureLog = Buffer.alloc(FAILURE_LOG_BYTES);
  type Planned = ProgramPlan & { prog: BpfProgram };
  type Opened = { obj: BpfObject; chosen: Planned[] } | { err: number; plan: ProgramPlan[] } | { thrown: unknown };
  // The object is closed exactly once on every failure path, and no libbpf pointer of it is used after that:
  // names and sections are copied into plain strings first (the reported SIGSEGV was programSection on a closed object).
  const { value, messages } = await lib.captureMessages(async (): Promise<Opened> => {
    const obj = lib.openObject(bytes, objectName, { failureLog });
    let keepOpen = false;
    try {
      const all = lib.programs(obj).map((prog) => ({ prog, name: lib.programName(prog), section: lib.programSection(prog), chosen: false }));
      const names = all.map((p) => p.name);
      if (all.length === 0) throw new AgentError(`${objectName} has no BPF programs: put each program function in a section, e.g. SEC("tracepoint/syscalls/sys_enter_openat").`, 'ENOPROGRAMS');
      const unknown = (params.programs ?? []).filter((n) => !names.includes(n));
      if (unknown.length) throw new AgentError(`${objectName} has no program ${unknown.join(', ')}; it has ${names.join(', ')}.`, 'ENOENT');
      // Without a list, libbpf's own default: every program except SEC("?...") ones.
      for (const p of all) {
        p.chosen = params.programs ? params.programs.includes(p.name) : lib.autoload(p.prog);
        lib.setAutoload(p.prog, p.chosen);
      }
      if (!all.some((p) => p.chosen)) throw new AgentError(`${objectName} has only SEC("?...") programs, which libbpf loads only by name: ask for ${names.join(', ')}.`, 'ENOPROGRAMS');
      setObjectGlobals(obj, params.globals ?? {});
      const err = await lib.loadObject(obj);
      if (err < 0) return { err, plan: all.map(({ name, section, chosen }) => ({ name, section, chosen })) };
      keepOpen = true;
      return { obj, chosen: all.filter((p) => p.chosen) };
    } catch (err) {
      return { thrown: err };
    } finally {
      if (!keepOpen) lib.closeObject(obj);
    }
  });
  if ('thrown' in value) throw value.thrown;
  if ('err' in value) {
    const end = failureLog.indexOf(0);
    throw loadFailure(value.err, value.plan, messages, failureLog.toString('utf8', 0, end < 0 ? failureLog.length : end));
  }
  const { obj, chosen } = value;

  let programs: LiveProgram[];
  const maps: LiveMap[] = [];
  try {
    programs = chosen.map(({ prog, name, section }) => {
      const fd = lib.programFd(prog);
      return { prog, fd, name, section, type: lib.progTypeName(lib.programType(prog)) ?? 'unknown', id: programInfo(fd).id, attached: false, links: [] };
    });
    for (const map of lib.maps(obj)) {
      if (lib.mapFd(map) >= 0) maps.push(mapEntry(map, lib.mapName(map)));
    }
  } catch (err) {
    lib.closeObject(obj);
    throw err;
  }
  const session: Session = { id: newSessionId(), objectName, obj, programs, maps, streams: new Map(), keepAlive: [bytes, failureLog], createdAt: Date.now() };
  registerSession(session);

  if (params.stats !== false) {
    const fd = lib.enableStats(BPF_STATS_RUN_TIME);
    if (fd >= 0) session.statsFd = fd;
    else session.statsError = `run-time statistics are unavailable (BPF_ENABLE_STATS failed with ${fd}; Linux 5.8+ and root are needed).`;
  }
  if (!params.noAttach) {
    try {
      for (const program of programs) {
        try {
          program.links = attachProgram(program, params.attach?.[program.name] ?? params.attach?.['*']);
          program.attached = true;
        } catch (err) {
          if (!(err instanceof AttachFailure)) throw err;
          program.attachError = err.message;
        }
      }
    } catch (err) {
      releaseSession(session);
      throw err;
    }
  }
  return summarize(session);
}
