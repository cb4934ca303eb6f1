// The `load` method: opens an object, keeps only the chosen programs, sets `const volatile` globals, loads it,
// enables run-time statistics for the session (BPF_ENABLE_STATS fd), and attaches each program by its section.
import type { LoadParams, LoadResult } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { AttachFailure, attachProgram } from './attach-program';
import { libbpf, type BpfMap, type BpfObject, type BpfProgram } from './ffi/libbpf';
import { hello } from './hello';
import { loadFailure, rejectedProgram, type ProgramPlan } from './load-failure';
import { unreadableReason } from './map-readability';
import { sizeMaps } from './map-sizing';
import { setObjectGlobals } from './object-globals';
import { planVariants } from './program-variants';
import { checkPinnedMaps, removeSessionPins, removeStalePins, sessionPinRoot } from './session-pins';
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

function mapEntry(map: BpfMap, name: string, sizing: string | undefined): LiveMap {
  const b = libbpf();
  const fd = b.mapFd(map);
  const info = b.objInfo(fd, MAP_INFO_SIZE);
  if (typeof info === 'number') throw new AgentError(`Cannot read the kernel's info of map ${name} (error ${info}).`, 'EMAPINFO');
  const entry: LiveMap = {
    map,
    fd,
    name,
    id: info.readUInt32LE(4),
    type: b.mapTypeName(info.readUInt32LE(0)),
    keySize: info.readUInt32LE(8),
    valueSize: info.readUInt32LE(12),
    maxEntries: info.readUInt32LE(16),
    internal: b.mapIsInternal(map),
    ...(sizing ? { sizing } : {}),
  };
  const unreadable = unreadableReason(entry.type);
  return unreadable ? { ...entry, unreadable } : entry;
}

interface ProgramChoice {
  /** Programs to load now. */
  chosen: string[];
  /** Programs left out and why: a variant not chosen, or a program the kernel refused (the others load without it). */
  notLoaded: Map<string, string>;
  /** Next-best variants of a chosen program, tried in turn when the kernel refuses it. */
  fallbacks: Map<string, string[]>;
  /** Why a program runs in place of another (a fallback after the preferred variant was refused). */
  notes: Map<string, string>;
  sections: Map<string, string>;
}

type ProgramEntry = { name: string; section: string; autoload: boolean };

/** The first choice: the asked-for programs, else libbpf's default with one variant per handler. */
function firstChoice(all: ProgramEntry[], asked: string[] | undefined): ProgramChoice {
  const sections = new Map(all.map((p) => [p.name, p.section]));
  if (asked) return { chosen: all.filter((p) => asked.includes(p.name)).map((p) => p.name), notLoaded: new Map(), fallbacks: new Map(), notes: new Map(), sections };
  const facts = hello();
  const plan = planVariants(all, { kprobes: facts.kprobes, lockdown: facts.lockdown });
  return { chosen: plan.chosen, notLoaded: plan.skipped, fallbacks: plan.fallbacks, notes: new Map(), sections };
}

/** Takes a refused program out of the choice (its reason on its line) and puts in its next variant, if it has one. */
function withoutRefused(choice: ProgramChoice, refused: { program: string; reason: string }): void {
  choice.chosen = choice.chosen.filter((n) => n !== refused.program);
  choice.notLoaded.set(refused.program, refused.reason);
  const [next, ...rest] = choice.fallbacks.get(refused.program) ?? [];
  if (!next) return;
  choice.chosen.push(next);
  choice.notLoaded.delete(next);
  choice.fallbacks.set(next, rest);
  choice.notes.set(next, `loaded instead of ${refused.program}, which was ${refused.reason}`);
}

type Planned = ProgramPlan & { prog: BpfProgram };
type Attempt = { obj: BpfObject; chosen: Planned[]; mapNotes: Map<string, string> } | { err: number; plan: ProgramPlan[] } | { thrown: unknown };

/** Opens the object, applies the choice, map sizes and globals, and loads it; the object is closed on every failure. */
async function loadAttempt(params: LoadParams, bytes: Buffer, objectName: string, failureLog: Buffer, pinRoot: string, choose: (all: ProgramEntry[]) => string[]): Promise<{ value: Attempt; messages: string[] }> {
  const lib = libbpf();
  // No libbpf pointer of a closed object is used: names and sections are copied into plain strings first.
  return lib.captureMessages(async (): Promise<Attempt> => {
    const obj = lib.openObject(bytes, objectName, { failureLog, pinRootPath: pinRoot });
    let keepOpen = false;
    try {
      const all = lib.programs(obj).map((prog) => ({ prog, name: lib.programName(prog), section: lib.programSection(prog), autoload: lib.autoload(prog), chosen: false }));
      const names = all.map((p) => p.name);
      if (all.length === 0) throw new AgentError(`${objectName} has no BPF programs: put each program function in a section, e.g. SEC("tracepoint/syscalls/sys_enter_openat").`, 'ENOPROGRAMS');
      const unknown = (params.programs ?? []).filter((n) => !names.includes(n));
      if (unknown.length) throw new AgentError(`${objectName} has no program ${unknown.join(', ')}; it has ${names.join(', ')}.`, 'ENOENT');
      const chosen = choose(all);
      for (const p of all) {
        p.chosen = chosen.includes(p.name);
        lib.setAutoload(p.prog, p.chosen);
      }
      if (!all.some((p) => p.chosen)) throw new AgentError(`${objectName} has only SEC("?...") programs, which libbpf loads only by name: ask for ${names.join(', ')}.`, 'ENOPROGRAMS');
      checkPinnedMaps(obj, objectName);
      const mapNotes = sizeMaps(obj, params.mapSizes);
      setObjectGlobals(obj, params.globals ?? {});
      const err = await lib.loadObject(obj);
      if (err < 0) return { err, plan: all.map(({ name, section, chosen: c }) => ({ name, section, chosen: c })) };
      keepOpen = true;
      return { obj, chosen: all.filter((p) => p.chosen), mapNotes };
    } catch (err) {
      return { thrown: err };
    } finally {
      if (!keepOpen) {
        removeSessionPins(obj, pinRoot);
        lib.closeObject(obj);
      }
    }
  });
}

export async function loadSession(params: LoadParams): Promise<LoadResult> {
  removeStalePins();
  const id = newSessionId();
  const pinRoot = sessionPinRoot(id);
  const bytes = Buffer.from(params.object, 'base64');
  const objectName = params.objectName ?? 'probe.bpf.o';
  const failureLog = Buffer.alloc(FAILURE_LOG_BYTES);
  let choice: ProgramChoice | undefined;
  const choose = (all: ProgramEntry[]): string[] => {
    choice ??= firstChoice(all, params.programs);
    return choice.chosen;
  };
  // One refused program does not stop the others: it is left out (its reason kept for its line) and the rest load again.
  for (;;) {
    failureLog.fill(0);
    const { value, messages } = await loadAttempt(params, bytes, objectName, failureLog, pinRoot, choose);
    if ('thrown' in value) throw value.thrown;
    if ('err' in value) {
      const end = failureLog.indexOf(0);
      const log = failureLog.toString('utf8', 0, end < 0 ? failureLog.length : end);
      const refused = choice && value.plan.filter((p) => p.chosen).length > 1 ? rejectedProgram(value.err, value.plan, messages, log) : undefined;
      // Each round takes one chosen program out; one that is not chosen would make no progress.
      if (!refused || !choice || !choice.chosen.includes(refused.program)) throw loadFailure(value.err, value.plan, messages, log);
      withoutRefused(choice, refused);
      continue;
    }
    return startSession(params, value, choice as ProgramChoice, [bytes, failureLog], objectName, id, pinRoot);
  }
}

/** Registers the loaded object as a session (statistics on) and attaches each program by its section. */
function startSession(params: LoadParams, loaded: Extract<Attempt, { obj: BpfObject }>, choice: ProgramChoice, keepAlive: Buffer[], objectName: string, id: string, pinRoot: string): LoadResult {
  const lib = libbpf();
  const { obj, chosen, mapNotes } = loaded;
  let programs: LiveProgram[];
  const maps: LiveMap[] = [];
  try {
    programs = chosen.map(({ prog, name, section }) => {
      const fd = lib.programFd(prog);
      const note = choice.notes.get(name);
      return { prog, fd, name, section, type: lib.progTypeName(lib.programType(prog)) ?? 'unknown', id: programInfo(fd).id, attached: false, links: [], ...(note ? { attachNote: note } : {}) };
    });
    for (const map of lib.maps(obj)) {
      const name = lib.mapName(map);
      if (lib.mapFd(map) >= 0) maps.push(mapEntry(map, name, mapNotes.get(name)));
    }
  } catch (err) {
    removeSessionPins(obj, pinRoot);
    lib.closeObject(obj);
    throw err;
  }
  const notLoaded = [...choice.notLoaded].map(([name, reason]) => ({ name, section: choice.sections.get(name) ?? '', reason }));
  const { eventTypes } = params;
  const session: Session = { id, pinRoot, objectName, obj, programs, notLoaded, maps, streams: new Map(), keepAlive, createdAt: Date.now(), ...(eventTypes ? { eventTypes } : {}) };
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
          const attached = attachProgram(program, params.attach?.[program.name] ?? params.attach?.['*']);
          program.links = attached.links;
          program.attached = true;
          if (attached.note) program.attachNote = program.attachNote ? `${program.attachNote}; ${attached.note}` : attached.note;
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
