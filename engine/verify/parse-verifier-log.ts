// Reads a kernel verifier log into its parts: each line classified (instruction, source annotation, register
// state, error, figures), the final error, the failing instruction, its source line and the register state there.
// Talks to nothing; works on logs of any size (one pass, no backtracking regexes) and on truncated logs.

export interface SourceAnnotation {
  /** The source text the kernel printed (trimmed). */
  code: string;
  /** File name as recorded in BTF line_info (usually the name given to clang), when the kernel printed one. */
  file?: string;
  /** 1-based line. */
  line?: number;
}

/** 'trace' is the verifier's own bookkeeping (precision backtracking, live regs…), never part of the error. */
export type LogLineKind = 'insn' | 'source' | 'state' | 'error' | 'figures' | 'trace' | 'other';

export interface LogLine {
  kind: LogLineKind;
  text: string;
  /** Instruction index for 'insn' lines and for state lines that name one. */
  insn?: number;
  /** For 'source' lines. */
  source?: SourceAnnotation;
}

export interface FailingInstruction {
  index: number;
  text: string;
  /** Index into ParsedVerifierLog.lines. */
  lineIndex: number;
}

export interface ParsedVerifierLog {
  lines: LogLine[];
  /** The kernel's final message (may span lines, e.g. "invalid access to packet…\nR1 offset is outside of the packet"). */
  errorMessage?: string;
  failingInsn?: FailingInstruction;
  /** The annotation nearest before the failing instruction. */
  failingSource?: SourceAnnotation;
  /** Register and stack-slot state at the failing instruction, e.g. { R0: "map_value_or_null(id=1,…)", "fp-8": "mmmm????" }. */
  registers: Record<string, string>;
  /** The annotation that precedes each instruction index the log shows (first seen). */
  insnSources: Map<number, SourceAnnotation>;
  /** Lines of the log that carry the failing path (instructions and annotations), as indices into `lines`. */
  pathLineIndices: number[];
}

/** An instruction, or one libbpf rewrote in the log ("12: <invalid CO-RE relocation>", "<invalid BPF map reference>"). */
const INSN = /^(\d+): (?:\(([0-9a-f]{2})\) (.*)|<invalid [^>]+>)$/;
const FULL_STATE = /^(\d+): ((?:R\d+|frame\d+:|fp-?\d+).*)$/;
const FROM_TO_STATE = /^from (\d+) to (\d+): (.*)$/;
const BRANCH_STATE = / (\d+): (R\d+.*)$/;
const FIGURES = /^(verification time \d+ usec|stack depth [\d+]+|processed \d+ insns \(limit \d+\).*)$/;
const SOURCE_WITH_FILE = /^; (.*) @ (.+):(\d+)$/;
const TRACE = /^(mark_precise:|last_idx |regs=|parent didn't|propagating |Live regs|Global function |Func#|Validating |func#|\s)/;

const CALL = /^\d+: \(85\) call /;

/** A helper call scratches R1–R5; the kernel prints only what it sets (R0), so drop the stale values. */
function withoutCallerSaved(registers: Record<string, string>): Record<string, string> {
  const kept = { ...registers };
  for (const r of ['R1', 'R2', 'R3', 'R4', 'R5']) delete kept[r];
  return kept;
}

/** Splits "R0=scalar(smin=0,var_off=(0x0; 0x7)) R1=ctx() fp-8=mmmm????" at spaces outside parentheses. */
export function parseRegisterState(text: string): Record<string, string> {
  const state: Record<string, string> = {};
  let depth = 0;
  let start = 0;
  const flush = (end: number) => {
    const token = text.slice(start, end).trim();
    const eq = token.indexOf('=');
    if (eq > 0) state[token.slice(0, eq).replace(/_w$/, '')] = token.slice(eq + 1);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ' ' && depth === 0) {
      flush(i);
      start = i + 1;
    }
  }
  flush(text.length);
  return state;
}

function classify(text: string): LogLine {
  const insn = INSN.exec(text);
  if (insn) return { kind: 'insn', text, insn: Number(insn[1]) };
  if (text.startsWith('; ')) {
    const withFile = SOURCE_WITH_FILE.exec(text);
    const source: SourceAnnotation = withFile ? { code: withFile[1].trim(), file: withFile[2], line: Number(withFile[3]) } : { code: text.slice(2).trim() };
    return { kind: 'source', text, source };
  }
  const full = FULL_STATE.exec(text);
  if (full) return { kind: 'state', text, insn: Number(full[1]) };
  const fromTo = FROM_TO_STATE.exec(text);
  if (fromTo) return { kind: 'state', text, insn: Number(fromTo[2]) };
  if (FIGURES.test(text) || text.startsWith('max_states_per_insn')) return { kind: 'figures', text };
  if (TRACE.test(text) || text === '') return { kind: 'trace', text };
  return { kind: 'other', text };
}

/** The state part of a line: after "N: " for full states, after "; " for an instruction's deltas. */
function stateOf(line: LogLine): { text: string; replaces: boolean } | undefined {
  if (line.kind === 'state') {
    const fromTo = FROM_TO_STATE.exec(line.text);
    return { text: fromTo ? fromTo[3] : line.text.slice(line.text.indexOf(': ') + 2), replaces: true };
  }
  if (line.kind !== 'insn') return undefined;
  const branch = BRANCH_STATE.exec(line.text);
  if (branch && /goto pc[+-]\d+ \d+: R/.test(line.text)) return { text: branch[2], replaces: true };
  const semicolon = line.text.indexOf(' ; ', line.text.indexOf(') ') + 2);
  return semicolon < 0 ? undefined : { text: line.text.slice(semicolon + 3), replaces: false };
}

export function parseVerifierLog(log: string): ParsedVerifierLog {
  const rawLines = log.split('\n');
  if (rawLines[rawLines.length - 1] === '') rawLines.pop();
  const lines = rawLines.map(classify);

  let lastInsn = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].kind === 'insn') {
      lastInsn = i;
      break;
    }
  }
  const errorLines: number[] = [];
  for (let i = lastInsn + 1; i < lines.length; i++) {
    if (lines[i].kind === 'other') errorLines.push(i);
  }
  if (lastInsn < 0) {
    // No instruction at all: the load failed before verification; the last non-figure lines are the message.
    errorLines.length = 0;
    for (let i = lines.length - 1; i >= 0 && lines[i].kind !== 'state'; i--) if (lines[i].kind === 'other') errorLines.unshift(i);
  }
  for (const i of errorLines) lines[i].kind = 'error';
  const errorMessage = errorLines.length ? errorLines.map((i) => lines[i].text).join('\n') : undefined;

  const insnSources = new Map<number, SourceAnnotation>();
  const pathLineIndices: number[] = [];
  let currentSource: SourceAnnotation | undefined;
  let registers: Record<string, string> = {};
  let failingSource: SourceAnnotation | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.kind === 'source') {
      currentSource = line.source;
      pathLineIndices.push(i);
      continue;
    }
    if (line.kind === 'insn' && line.insn !== undefined) {
      pathLineIndices.push(i);
      if (currentSource && !insnSources.has(line.insn)) insnSources.set(line.insn, currentSource);
      if (i === lastInsn) {
        failingSource = currentSource;
        break;
      }
    }
    if (line.kind === 'insn' && CALL.test(line.text)) registers = withoutCallerSaved(registers);
    const state = stateOf(line);
    if (state) registers = state.replaces ? parseRegisterState(state.text) : { ...registers, ...parseRegisterState(state.text) };
  }

  const failing = lastInsn >= 0 && errorMessage ? lines[lastInsn] : undefined;
  return {
    lines,
    ...(errorMessage ? { errorMessage } : {}),
    ...(failing ? { failingInsn: { index: failing.insn ?? -1, text: failing.text, lineIndex: lastInsn } } : {}),
    ...(failing && failingSource ? { failingSource } : {}),
    registers: failing ? registers : {},
    insnSources,
    pathLineIndices,
  };
}
