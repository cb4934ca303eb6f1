// Renders one program's verifier log as text for the log view (source lines labelled and linked, failing path
// and error lines marked) and its figures for code lenses. No vscode import, so unit tests cover it.
import type { ProgramReport } from '../../../engine/verify/verify-probe';
import { parseVerifierLog } from '../../../engine/verify/parse-verifier-log';
import { resolveLogFile } from '../../../engine/verify/verifier-diagnostics';

const INSN_LIMIT = 1_000_000;
/** Links and marks are capped so a multi-megabyte log stays responsive; the text itself is whole. */
export const MAX_MARKED_LINES = 20_000;

export interface VerifierLogText {
  text: string;
  /** Rendered line → source file and 1-based line, for click-to-jump. */
  links: { line: number; path: string; sourceLine: number }[];
  /** Rendered lines on the failing path (rejected programs at log level 1, whose log is that path). */
  pathLines: number[];
  /** Rendered lines of the kernel's error and the failing instruction. */
  errorLines: number[];
}

/** "21 of 1,000,000 insns (0.00%) · stack 16 B of 512 · 73 µs" */
export function programFigures(program: ProgramReport): string {
  const parts: string[] = [];
  if (program.insnsProcessed !== undefined) {
    const share = (program.insnsProcessed / INSN_LIMIT) * 100;
    parts.push(`${program.insnsProcessed.toLocaleString('en-US')} of ${INSN_LIMIT.toLocaleString('en-US')} insns (${share < 0.1 ? share.toFixed(2) : share.toFixed(1)}%)`);
  }
  if (program.stackDepth?.length) parts.push(`stack ${program.stackDepth.reduce((a, b) => a + b, 0)} B${program.stackDepth.length > 1 ? ` (${program.stackDepth.join('+')})` : ''} of 512`);
  if (program.verificationTimeUs !== undefined) parts.push(program.verificationTimeUs >= 10_000 ? `${(program.verificationTimeUs / 1000).toFixed(0)} ms` : `${program.verificationTimeUs} µs`);
  return parts.join(' · ');
}

export function renderVerifierLog(sourcePath: string, program: ProgramReport, target: string): VerifierLogText {
  const level = program.logLevel ?? 1;
  const parsed = parseVerifierLog(program.log);
  const verdict = program.accepted ? 'accepted' : `rejected${program.errno !== undefined ? `, errno ${program.errno}` : ''}`;
  const header = [
    `# ${program.name} (${program.section}) on ${target}: ${verdict} · log level ${level}`,
    ...(program.accepted ? [`# ${programFigures(program)}`] : []),
    ...(program.failure ? [`# failing line: ${program.failure.path}:${program.failure.line + 1}`] : []),
    ...(program.logTruncated ? ['# the log exceeded the largest buffer; the kernel kept its end'] : []),
    ...program.loaderMessages.map((m) => `# ${m}`),
    '',
  ];
  const lines: string[] = [...header];
  const links: VerifierLogText['links'] = [];
  const pathLines: number[] = [];
  const errorLines: number[] = [];
  const onPath = new Set(parsed.pathLineIndices);
  const link = (line: number, file: string, sourceLine: number) => {
    if (links.length < MAX_MARKED_LINES) links.push({ line, path: resolveLogFile(file, sourcePath), sourceLine });
  };
  parsed.lines.forEach((entry, index) => {
    const docLine = lines.length;
    if (entry.kind === 'source' && entry.source?.file && entry.source.line) {
      lines.push(`  ${entry.source.file}:${entry.source.line} │ ${entry.source.code}`);
      link(docLine, entry.source.file, entry.source.line);
    } else {
      lines.push(entry.text);
      const source = entry.kind === 'insn' && entry.insn !== undefined ? parsed.insnSources.get(entry.insn) : undefined;
      if (source?.file && source.line) link(docLine, source.file, source.line);
    }
    if (entry.kind === 'error') errorLines.push(docLine);
    else if (onPath.has(index) && pathLines.length < MAX_MARKED_LINES && !program.accepted && level === 1) pathLines.push(docLine);
  });
  if (parsed.failingInsn) errorLines.push(header.length + parsed.failingInsn.lineIndex);
  return { text: lines.join('\n'), links, pathLines, errorLines };
}
