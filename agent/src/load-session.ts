// The `load` method: opens an object, keeps only the chosen programs, sets `const volatile` globals, loads it,
// enables run-time statistics for the session (BPF_ENABLE_STATS fd), and attaches each program by its section.
import type { LoadParams, LoadResult } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { AttachFailure, attachProgram } from './attach-program';
import { hello } from './hello';
import { libbpf, type LibbpfPointer } from './libbpf';
import { setObjectGlobals } from './object-globals';
import { newSessionId, registerSession, releaseSession, summarize, type LiveMap, type LiveProgram, type Session } from './sessions';
import { sessionBindings } from './session-bindings';

const BPF_STATS_RUN_TIME = 0;
const PROG_INFO_SIZE = 232;
const MAP_INFO_SIZE = 96;

function loadFailure(err: number, sections: string[], messages: string[]): AgentError {
  const errno = -err;
  const facts = hello();
  const tail = messages.filter((m) => !m.startsWith('info: ')).slice(-12).join('\n');
  const tracing = sections.filter((s) => /^(fentry|fexit|fmod_ret|lsm|freplace)[./]/.test(s));
  let why: string;
  if (errno === 1 && tracing.length && facts.lockdown && facts.lockdown !== 'none') {
    why = `kernel lockdown is "${facts.lockdown}": it refuses ${tracing.join(', ')} before verification (EPERM). Use tp_btf or raw_tp programs instead.`;
  } else if (errno === 1) {
    why = 'permission denied (EPERM): the agent must run as root or with CAP_BPF + CAP_PERFMON; check `ulimit -l` on kernels older than 5.11.';
  } else if (errno === 13 || errno === 22 || errno === 7) {
    why = `the kernel verifier rejected a program (errno ${errno}). Run "Verify with Kernel" (CLI: ebpf-studio check --verify) to see the verifier's objection on its source line.`;
  } else {
    why = `libbpf could not load the object (errno ${errno}).`;
  }
  return new AgentError(`Load failed: ${why}${tail ? `\nlibbpf said:\n${tail}` : ''}`, 'ELOAD');
}

function programInfo(fd: number): { id: number } {
  const info = sessionBindings().objInfo(fd, PROG_INFO_SIZE);
  return typeof info === 'number' ? { id: 0 } : { id: info.readUInt32LE(4) };
}

function mapEntry(map: LibbpfPointer, name: string): LiveMap {
  const b = sessionBindings();
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
  const lib = libbpf();
  const b = sessionBindings();
  const bytes = Buffer.from(params.object, 'base64');
  const objectName = params.objectName ?? 'probe.bpf.o';
  type Opened = { obj: LibbpfPointer; chosen: LibbpfPointer[] } | { err: number; sections: string[] } | { thrown: unknown };
  const { value, messages } = await lib.captureMessages(async (): Promise<Opened> => {
    const obj = lib.openObject(bytes, objectName);
    try {
      const all = lib.programs(obj);
      const names = all.map((p) => lib.programName(p));
      if (all.length === 0) throw new AgentError(`${objectName} has no BPF programs: put each program function in a section, e.g. SEC("tracepoint/syscalls/sys_enter_openat").`, 'ENOPROGRAMS');
      const unknown = (params.programs ?? []).filter((n) => !names.includes(n));
      if (unknown.length) throw new AgentError(`${objectName} has no program ${unknown.join(', ')}; it has ${names.join(', ')}.`, 'ENOENT');
      const chosen = all.filter((p) => !params.programs || params.programs.includes(lib.programName(p)));
      for (const p of all) lib.setAutoload(p, chosen.includes(p));
      setObjectGlobals(obj, params.globals ?? {});
      const err = await lib.loadObject(obj);
      if (err < 0) {
        lib.closeObject(obj);
        return { err, sections: chosen.map((p) => lib.programSection(p)) };
      }
      return { obj, chosen };
    } catch (err) {
      lib.closeObject(obj);
      return { thrown: err };
    }
  });
  if ('thrown' in value) throw value.thrown;
  if ('err' in value) throw loadFailure(value.err, value.sections, messages);
  const { obj, chosen } = value;

  const programs: LiveProgram[] = chosen.map((prog) => {
    const fd = lib.programFd(prog);
    return {
      prog,
      fd,
      name: lib.programName(prog),
      section: lib.programSection(prog),
      type: b.progTypeName(b.programType(prog)) ?? 'unknown',
      id: programInfo(fd).id,
      attached: false,
      links: [],
    };
  });
  const maps: LiveMap[] = [];
  for (let map = b.nextMap(obj, null); map; map = b.nextMap(obj, map)) {
    const name = b.mapName(map);
    if (b.mapFd(map) >= 0) maps.push(mapEntry(map, name));
  }
  const session: Session = { id: newSessionId(), objectName, obj, programs, maps, streams: new Map(), keepAlive: [bytes], createdAt: Date.now() };
  registerSession(session);

  if (params.stats !== false) {
    const fd = b.enableStats(BPF_STATS_RUN_TIME);
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
