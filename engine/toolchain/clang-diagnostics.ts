// Turns clang's stderr (`file:line:col: error: message`) into LSP diagnostics (source 'clang') per file,
// with clang's notes as related information. Talks to nothing; reads source files to size the ranges.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type Diagnostic, type Range } from 'vscode-languageserver-types';

/** Diagnostics by absolute file path. */
export type DiagnosticsByFile = Map<string, Diagnostic[]>;

const LINE = /^(.+?):(\d+):(\d+): (fatal error|error|warning|note|remark): (.*)$/;
const SEVERITY: Record<string, DiagnosticSeverity> = {
  'fatal error': DiagnosticSeverity.Error,
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  remark: DiagnosticSeverity.Information,
};

/** A range from the column to the end of the identifier or token that starts there (one character at least). */
function tokenRange(lines: string[] | undefined, line: number, column: number): Range {
  const text = lines?.[line] ?? '';
  let end = column;
  if (/[A-Za-z0-9_]/.test(text[column] ?? '')) while (end < text.length && /[A-Za-z0-9_]/.test(text[end])) end++;
  else end = Math.min(column + 1, Math.max(text.length, column + 1));
  return { start: { line, character: column }, end: { line, character: Math.max(end, column + 1) } };
}

export function parseClangDiagnostics(stderr: string, cwd: string): DiagnosticsByFile {
  const byFile: DiagnosticsByFile = new Map();
  const sources = new Map<string, string[] | undefined>();
  const linesOf = (path: string) => {
    if (!sources.has(path)) {
      try {
        sources.set(path, readFileSync(path, 'utf8').split('\n'));
      } catch {
        sources.set(path, undefined);
      }
    }
    return sources.get(path);
  };
  let last: Diagnostic | undefined;
  for (const raw of stderr.split('\n')) {
    const m = LINE.exec(raw);
    if (!m) continue;
    const [, file, lineText, columnText, kind, message] = m;
    const path = resolve(cwd, file);
    const range = tokenRange(linesOf(path), Math.max(0, Number(lineText) - 1), Math.max(0, Number(columnText) - 1));
    if (kind === 'note') {
      if (last) (last.relatedInformation ??= []).push({ location: { uri: pathToFileURL(path).href, range }, message });
      continue;
    }
    const flag = /\s\[(-W[^\]]+)\]$/.exec(message);
    last = {
      range,
      severity: SEVERITY[kind],
      source: 'clang',
      message: flag ? message.slice(0, flag.index) : message,
      ...(flag ? { code: flag[1] } : {}),
    };
    const list = byFile.get(path) ?? [];
    list.push(last);
    byFile.set(path, list);
  }
  return byFile;
}
