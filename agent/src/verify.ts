// The `verify` method: loads each program of an object through the kernel verifier on its own (the object is
// opened once per program with only that program autoloaded, its maps sized as `load` sizes them), keeps the whole log.
import type { MapSize, ProgramVerdict, VerifyParams, VerifyResult } from '../../protocol/agent-rpc';
import { MAX_VERIFIER_LOG_BYTES } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { libbpf } from './ffi/libbpf';
import { sizeMaps } from './map-sizing';

const ENOSPC = 28;
const BPF_LOG_STATS = 4;
const FIRST_LOG_BYTES: Record<1 | 2, number> = { 1: 1024 * 1024, 2: 16 * 1024 * 1024 };

interface ProgramInfo {
  name: string;
  section: string;
  insnCount: number;
  autoload: boolean;
}

export async function verifyObject(params: VerifyParams): Promise<VerifyResult> {
  const bytes = Buffer.from(params.object, 'base64');
  const objectName = params.objectName ?? 'probe.bpf.o';
  const logLevel = params.logLevel === 2 ? 2 : 1;
  const { programs: all, sizedMaps } = await listPrograms(bytes, objectName, params.mapSizes);
  if (all.length === 0) {
    throw new AgentError(
      `${objectName} has no BPF programs: put each program function in a section, e.g. SEC("tracepoint/syscalls/sys_enter_openat").`,
      'ENOPROGRAMS',
    );
  }
  // Like libbpf's own load, SEC("?...") programs are left out unless asked for by name.
  const wanted = params.programs ? all.filter((p) => params.programs?.includes(p.name)) : all.filter((p) => p.autoload);
  if (params.programs && wanted.length === 0) {
    throw new AgentError(`None of ${params.programs.join(', ')} is a program of ${objectName}; it has ${all.map((p) => p.name).join(', ')}.`, 'ENOENT');
  }
  // All at once first, as libbpf's own load (maps created once); when that fails, each on its own for its own verdict.
  const programs = (wanted.length > 1 ? await verifyTogether(bytes, objectName, wanted, logLevel, params.mapSizes) : undefined) ?? [];
  if (programs.length === 0) for (const program of wanted) programs.push(await verifyProgram(bytes, objectName, program, logLevel, params.mapSizes));
  const skipped = all.filter((p) => !wanted.includes(p)).map((p) => ({ name: p.name, section: p.section, reason: p.autoload ? 'not requested' : 'not loaded by default (SEC("?…"))' }));
  return { programs, ...(skipped.length ? { skipped } : {}), ...(sizedMaps.length ? { sizedMaps } : {}) };
}

/** The object's programs, and how its maps get sized (a size for a map it lacks is refused here, before any load). */
async function listPrograms(bytes: Buffer, objectName: string, mapSizes: Record<string, MapSize> | undefined): Promise<{ programs: ProgramInfo[]; sizedMaps: { name: string; sizing: string }[] }> {
  const lib = libbpf();
  const { value, messages } = await lib.captureMessages(async () => {
    let obj;
    try {
      obj = lib.openObject(bytes, objectName);
    } catch (err) {
      return err as Error;
    }
    try {
      const sizedMaps = [...sizeMaps(obj, mapSizes)].map(([name, sizing]) => ({ name, sizing }));
      // Non-static functions without SEC() land in .text: libbpf lists them, but they are subprograms, not programs.
      const programs = lib
        .programs(obj)
        .map((p) => ({ name: lib.programName(p), section: lib.programSection(p), insnCount: lib.programInsnCount(p), autoload: lib.autoload(p) }))
        .filter((p) => p.section !== '.text');
      return { programs, sizedMaps };
    } catch (err) {
      return err as Error;
    } finally {
      lib.closeObject(obj);
    }
  });
  if (value instanceof AgentError) {
    throw new AgentError(messages.length ? `${value.message}\n${messages.join('\n')}` : value.message, value.code);
  }
  if (value instanceof Error) throw value;
  return value;
}

/** Loads the programs in one object load, each with its own log; their verdicts when every one was accepted, else undefined. */
async function verifyTogether(bytes: Buffer, objectName: string, wanted: ProgramInfo[], level: 1 | 2, mapSizes: Record<string, MapSize> | undefined): Promise<ProgramVerdict[] | undefined> {
  const lib = libbpf();
  const logs = new Map(wanted.map((p) => [p.name, Buffer.alloc(FIRST_LOG_BYTES[level])]));
  const { value: err, messages } = await lib.captureMessages(async () => {
    const obj = lib.openObject(bytes, objectName);
    try {
      for (const prog of lib.programs(obj)) {
        const log = logs.get(lib.programName(prog));
        lib.setAutoload(prog, log !== undefined);
        if (log) lib.setLogBuffer(prog, log, level | BPF_LOG_STATS);
      }
      sizeMaps(obj, mapSizes);
      return await lib.loadObject(obj);
    } finally {
      lib.closeObject(obj);
    }
  });
  if (err !== 0) return undefined;
  return wanted.map(({ name, section, insnCount }) => {
    const buffer = logs.get(name) as Buffer;
    const end = buffer.indexOf(0);
    const log = buffer.toString('utf8', 0, end < 0 ? buffer.length : end);
    return { name, section, insnCount, accepted: true, log, logTruncated: false, logLevel: level, loaderMessages: messages, ...logFigures(log) };
  });
}

async function verifyProgram(bytes: Buffer, objectName: string, program: ProgramInfo, level: 1 | 2, mapSizes: Record<string, MapSize> | undefined): Promise<ProgramVerdict> {
  const lib = libbpf();
  for (let size = FIRST_LOG_BYTES[level]; ; size *= 4) {
    const logBuffer = Buffer.alloc(size);
    const { value: err, messages } = await lib.captureMessages(async () => {
      const obj = lib.openObject(bytes, objectName);
      try {
        for (const prog of lib.programs(obj)) {
          const isTarget = lib.programName(prog) === program.name;
          lib.setAutoload(prog, isTarget);
          if (isTarget) lib.setLogBuffer(prog, logBuffer, level | BPF_LOG_STATS);
        }
        sizeMaps(obj, mapSizes);
        return await lib.loadObject(obj);
      } finally {
        lib.closeObject(obj);
      }
    });
    const tooSmall = err === -ENOSPC;
    if (tooSmall && size * 4 <= MAX_VERIFIER_LOG_BYTES) continue;
    const end = logBuffer.indexOf(0);
    const log = logBuffer.toString('utf8', 0, end < 0 ? logBuffer.length : end);
    const { name, section, insnCount } = program;
    return { name, section, insnCount, accepted: err === 0, ...(err === 0 ? {} : { errno: -err }), log, logTruncated: tooSmall, logLevel: level, loaderMessages: messages, ...logFigures(log) };
  }
}

/** The figures the kernel prints at the end of the log with BPF_LOG_STATS. */
export function logFigures(log: string): Pick<ProgramVerdict, 'insnsProcessed' | 'stackDepth' | 'verificationTimeUs'> {
  const tail = log.slice(-4096);
  const processed = /processed (\d+) insns \(limit \d+\)/.exec(tail);
  const time = /verification time (\d+) usec/.exec(tail);
  const stack = /stack depth ([\d+]+)/.exec(tail);
  return {
    ...(processed ? { insnsProcessed: Number(processed[1]) } : {}),
    ...(time ? { verificationTimeUs: Number(time[1]) } : {}),
    ...(stack ? { stackDepth: stack[1].split('+').filter(Boolean).map(Number) } : {}),
  };
}
