// Turns the agent's per-program verdicts into LSP diagnostics (source 'verifier') on the kernel's line: the
// kernel's exact message, a plain explanation, the register state as related information. Reads source files.
import { readFileSync, existsSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation, type Range } from 'vscode-languageserver-types';
import type { ProgramVerdict } from '../../protocol/agent-rpc';
import { explainLoadRefusal, explainVerifierMessage } from './explain-verifier-message';
import { lineInfoFallback } from './line-info-fallback';
import { parseVerifierLog, type ParsedVerifierLog } from './parse-verifier-log';

export interface VerifierDiagnosticOptions {
  /** Absolute path of the compiled source; file names in the log resolve against its folder. */
  sourcePath: string;
  /** The compiled object, for the BTF line_info fallback when the log has no source annotation. */
  object?: Uint8Array;
  /** The target's lockdown mode (hello.lockdown), to explain EPERM. */
  lockdown?: string;
  /** 0-based line of the program's SEC("…") in the source (from the probe's parse), for a rejection without a line. */
  declarationLine?: number;
}

/** Where a rejection's line came from: the object's line_info for the failing instruction, the log's nearest
 * annotation, or (no instruction named) the program's SEC line. */
export type LineOrigin = 'line-info' | 'log' | 'declaration';

export interface VerifierDiagnostic {
  /** Absolute path of the file the diagnostic belongs to. */
  path: string;
  lineFrom: LineOrigin;
  diagnostic: Diagnostic;
  parsed: ParsedVerifierLog;
}

/** Data attached to each verifier diagnostic (LSP `data`), for the log view and code actions. */
export interface VerifierDiagnosticData {
  program: string;
  section: string;
  insn?: number;
}

function readLines(path: string): string[] | undefined {
  try {
    return readFileSync(path, 'utf8').split('\n');
  } catch {
    return undefined;
  }
}

function lineRange(lines: string[] | undefined, line: number): Range {
  const text = lines?.[line] ?? '';
  const start = text.length - text.trimStart().length;
  return { start: { line, character: start }, end: { line, character: Math.max(text.trimEnd().length, start + 1) } };
}

/** The file a log annotation names, resolved next to the source; the source itself when only its basename matches. */
export function resolveLogFile(file: string, sourcePath: string): string {
  if (isAbsolute(file)) return file;
  const candidate = resolve(dirname(sourcePath), file);
  if (existsSync(candidate)) return candidate;
  return basename(file) === basename(sourcePath) ? sourcePath : candidate;
}

/** 0-based line of a map definition (`} name SEC(".maps");`), when the map is defined in this file. */
export function mapDeclarationLine(lines: string[], name: string): number | undefined {
  const pattern = new RegExp(`\\b${name.replace(/[.]/g, '\\.')}\\s+SEC\\("\\.maps"\\)`);
  const index = lines.findIndex((l) => pattern.test(l));
  return index >= 0 ? index : undefined;
}

/** One diagnostic for a rejected program; undefined for an accepted one. */
export function verdictDiagnostic(verdict: ProgramVerdict, options: VerifierDiagnosticOptions): VerifierDiagnostic | undefined {
  if (verdict.accepted) return undefined;
  const parsed = parseVerifierLog(verdict.log);
  const errnoName = Object.entries(constants.errno).find(([, value]) => value === verdict.errno)?.[0];
  const errnoText = verdict.errno !== undefined ? ` with ${errnoName ?? 'errno'} (${verdict.errno})` : '';
  // libbpf's most specific complaint (a map it could not create, a relocation it could not resolve), without its
  // generic "load failed" lines and its misleading 'ulimit -l' hint.
  const specific = verdict.loaderMessages
    .filter((m) => !/BPF program load failed|failed to load( object|: -\d+)|try raising 'ulimit -l'|Retrying without BTF/.test(m))
    .map((m) => m.replace(/^libbpf: /, ''))
    .at(-1);
  const kernelMessage =
    parsed.errorMessage ??
    specific ??
    (verdict.log.trim() === '' && verdict.errno !== undefined
      ? `The kernel refused to load ${verdict.name}${errnoText} before verifying it (empty verifier log).`
      : `The kernel refused to load ${verdict.name}${errnoText}.`);
  const explained =
    explainVerifierMessage(kernelMessage) ??
    explainLoadRefusal({ section: verdict.section, log: verdict.log, ...(verdict.errno !== undefined ? { errno: verdict.errno } : {}), ...(options.lockdown ? { lockdown: options.lockdown } : {}) });

  // The kernel annotates an instruction only when its line_info differs from the last one printed, and at log
  // level 1 it discards the log of finished paths, so the nearest annotation can be stale. For an instruction of
  // the program's own body the object's line_info gives exactly the line the kernel would print for it.
  let path = options.sourcePath;
  let line: number | undefined;
  let lineFrom: LineOrigin = 'declaration';
  const failingInsn = parsed.failingInsn?.index;
  const lineInfo = failingInsn !== undefined && failingInsn < verdict.insnCount && options.object ? lineInfoFallback(options.object, verdict.section, verdict.name, failingInsn) : undefined;
  const source = parsed.failingSource;
  if (lineInfo) {
    path = resolveLogFile(lineInfo.file, options.sourcePath);
    line = lineInfo.line - 1;
    lineFrom = 'line-info';
  } else if (source?.file && source.line) {
    path = resolveLogFile(source.file, options.sourcePath);
    line = source.line - 1;
    lineFrom = 'log';
  }
  const lines = readLines(path);
  const failedMap = parsed.errorMessage ? undefined : /map '([\w.]+)'/.exec(kernelMessage)?.[1];
  if (line === undefined && failedMap) line = mapDeclarationLine(readLines(options.sourcePath) ?? [], failedMap);
  if (line === undefined) line = options.declarationLine ?? 0;
  const range = lineRange(lines, line);
  const uri = pathToFileURL(path).href;

  const related: DiagnosticRelatedInformation[] = [];
  if (parsed.failingInsn) related.push({ location: { uri, range }, message: `failing instruction: ${parsed.failingInsn.text}` });
  for (const [register, value] of Object.entries(parsed.registers)) {
    related.push({ location: { uri, range }, message: `${register} = ${value}` });
  }
  for (const message of verdict.loaderMessages.filter((m) => !/try raising 'ulimit -l'/.test(m))) related.push({ location: { uri, range }, message });
  const acquired = /alloc_insn=(\d+)/.exec(kernelMessage);
  const acquiredAt = acquired ? parsed.insnSources.get(Number(acquired[1])) : undefined;
  if (acquiredAt?.file && acquiredAt.line) {
    const acquiredPath = resolveLogFile(acquiredAt.file, options.sourcePath);
    related.push({ location: { uri: pathToFileURL(acquiredPath).href, range: lineRange(readLines(acquiredPath), acquiredAt.line - 1) }, message: `the reference is acquired here: ${acquiredAt.code}` });
  }
  const truncatedNote = verdict.logTruncated ? '\n(The verifier log was larger than the agent\'s largest buffer; the kernel kept its end, which holds this message.)' : '';
  const data: VerifierDiagnosticData = { program: verdict.name, section: verdict.section, ...(parsed.failingInsn ? { insn: parsed.failingInsn.index } : {}) };
  const diagnostic: Diagnostic = {
    range,
    severity: DiagnosticSeverity.Error,
    source: 'verifier',
    message: `${kernelMessage}${explained ? `\n${explained.explanation}` : ''}\n(program ${verdict.name}, section ${verdict.section})${truncatedNote}`,
    ...(explained ? { code: explained.family } : {}),
    ...(related.length ? { relatedInformation: related } : {}),
    data,
  };
  return { path, lineFrom, diagnostic, parsed };
}
