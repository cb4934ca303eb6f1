// Explains a failed bpf_object__load from libbpf 1.1's messages and the failing program's verifier log: the rejected program with
// its source line and the verifier's last word, the map the kernel refused, or lockdown/permissions. No libbpf calls.
import { AgentError } from './agent-error';
import { hello } from './hello';

/** A program of the object as it was before load, in libbpf's load order, with whether it was asked for. */
export interface ProgramPlan {
  name: string;
  section: string;
  chosen: boolean;
}

const TRACING_SECTION = /^(fentry|fexit|fmod_ret|lsm|freplace)[./]/;
const LOG_TAIL_LINES = 12;

/** The verifier's own objection: the last line of the log before its statistics ("processed N insns …"). */
export function verifierObjection(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trimEnd());
  const stats = lines.findIndex((l) => /^processed \d+ insns/.test(l));
  const body = (stats < 0 ? lines : lines.slice(0, stats)).filter((l) => l.trim() !== '');
  return body.at(-1);
}

/** The source line the verifier was on when it stopped: its last `; <code> @ file.bpf.c:LINE` annotation. */
export function rejectedSourceLine(log: string): string | undefined {
  const annotations = [...log.matchAll(/^; (.*) @ (\S+:\d+)$/gm)];
  const last = annotations.at(-1);
  return last ? `${last[2]} (${last[1].trim()})` : undefined;
}

interface Rejection {
  program: string;
  reason: string;
  log?: string;
}

/** The program libbpf says failed to load; `verifierLog` is what the kernel wrote into the object's failure log buffer. */
function findRejection(messages: string[], verifierLog: string): Rejection | undefined {
  for (const message of messages) {
    const failed = /^(?:libbpf: )?prog '([^']+)': BPF program load failed: (.+)$/m.exec(message);
    if (failed) return { program: failed[1], reason: failed[2].trim(), ...(verifierLog.trim() ? { log: verifierLog } : {}) };
  }
  return undefined;
}

/** Kernel lockdown as the cause of an EPERM on a tracing program: read from securityfs, else inferred when running as root. */
function lockdownCause(): string | undefined {
  const mode = hello().lockdown;
  if (mode) return mode === 'none' ? undefined : `kernel lockdown "${mode}"`;
  return process.getuid?.() === 0 ? 'kernel lockdown (EPERM although the agent runs as root)' : undefined;
}

/**
 * The one program a failed load names and why, in a line for that program's row (so the others can load without it);
 * undefined when no single program is to blame (a refused map, a relocation failure before any program).
 */
export function rejectedProgram(err: number, plan: ProgramPlan[], messages: string[], verifierLog: string): { program: string; reason: string } | undefined {
  const rejection = findRejection(messages, verifierLog);
  const program = plan.find((p) => p.chosen && p.name === rejection?.program);
  if (!rejection || !program) return undefined;
  if (-err === 1 && TRACING_SECTION.test(program.section)) {
    const cause = lockdownCause() ?? 'missing privileges (CAP_BPF, CAP_PERFMON)';
    return { program: program.name, reason: `refused before verification: ${cause} forbids ${program.section.split('/')[0]} programs (EPERM)` };
  }
  const objection = rejection.log ? verifierObjection(rejection.log) : undefined;
  const line = rejection.log ? rejectedSourceLine(rejection.log) : undefined;
  return { program: program.name, reason: `rejected by the kernel verifier${line ? ` at ${line}` : ''}: ${objection ?? rejection.reason}` };
}

function findRefusedMap(messages: string[]): { map: string; reason: string } | undefined {
  for (const message of messages) {
    const refused = /^(?:libbpf: )?map '([^']+)': failed to create: (.+)$/m.exec(message);
    if (refused) return { map: refused[1], reason: refused[2].trim() };
  }
  return undefined;
}

function loaderTail(messages: string[]): string {
  return messages
    .filter((m) => !m.startsWith('info: '))
    .slice(-LOG_TAIL_LINES)
    .join('\n');
}

function rejectionText(rejection: Rejection, plan: ProgramPlan[]): string {
  const chosen = plan.filter((p) => p.chosen);
  const at = chosen.findIndex((p) => p.name === rejection.program);
  const rejected = chosen[at];
  const passed = at > 0 ? chosen.slice(0, at).map((p) => p.name) : [];
  const untried = at >= 0 ? chosen.slice(at + 1).map((p) => p.name) : [];
  const objection = rejection.log ? verifierObjection(rejection.log) : undefined;
  const line = rejection.log ? rejectedSourceLine(rejection.log) : undefined;
  const parts = [
    `the kernel verifier rejected program ${rejection.program}${rejected ? ` (${rejected.section})` : ''}${line ? ` at ${line}` : ''}: ${objection ?? rejection.reason}.`,
    passed.length ? `${passed.join(', ')} passed the verifier but ${passed.length === 1 ? 'was' : 'were'} unloaded again: an object loads whole or not at all.` : '',
    untried.length ? `${untried.join(', ')} ${untried.length === 1 ? 'was' : 'were'} not verified (libbpf stops at the first rejected program).` : '',
    chosen.length > 1 ? `Fix ${rejection.program}, or load only the other programs.` : '',
    'Run "Verify with Kernel" (CLI: ebpf-studio check --verify) to see the objection on its source line.',
  ];
  const log = rejection.log ? `\nVerifier log (last lines):\n${rejection.log.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n')}` : '';
  return parts.filter(Boolean).join(' ') + log;
}

/**
 * The error for a failed bpf_object__load (err is its negative errno; nothing of the object is loaded any more), from
 * libbpf's messages and the verifier log of the program that failed (empty when no program got to the verifier).
 */
export function loadFailure(err: number, plan: ProgramPlan[], messages: string[], verifierLog: string): AgentError {
  const errno = -err;
  const tracing = plan.filter((p) => p.chosen && TRACING_SECTION.test(p.section)).map((p) => p.section);
  const lockdown = errno === 1 && tracing.length ? lockdownCause() : undefined;
  const rejection = findRejection(messages, verifierLog);
  const refusedMap = findRefusedMap(messages);
  let why: string;
  if (lockdown) {
    why = `${lockdown} refuses ${tracing.join(', ')} before verification (EPERM): this kernel cannot run fentry/fexit/LSM programs. Use tp_btf or raw_tp programs instead.`;
  } else if (errno === 1) {
    why = 'permission denied (EPERM): the agent must run as root or with CAP_BPF + CAP_PERFMON; check `ulimit -l` on kernels older than 5.11.';
  } else if (refusedMap) {
    why = `the kernel refused to create map ${refusedMap.map}: ${refusedMap.reason}. Check its type, key/value sizes and max_entries (hash maps need max_entries > 0).`;
  } else if (rejection) {
    return new AgentError(`Load failed: ${rejectionText(rejection, plan)}`, 'ELOAD');
  } else if (errno === 13 || errno === 22 || errno === 7) {
    why = `the kernel verifier rejected a program (errno ${errno}). Run "Verify with Kernel" (CLI: ebpf-studio check --verify) to see the verifier's objection on its source line.`;
  } else {
    why = `libbpf could not load the object (errno ${errno}).`;
  }
  const tail = loaderTail(messages);
  return new AgentError(`Load failed: ${why}${tail ? `\nlibbpf said:\n${tail}` : ''}`, 'ELOAD');
}
