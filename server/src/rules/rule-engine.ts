// Runs the registered rules on a ProbeFile and turns findings into LSP Diagnostics (rule id as
// code, docs page link, verifier quote). Per-function results are cached across edits.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type Diagnostic, type Range, type TextEdit } from 'vscode-languageserver-types';
import type { ProbeFile } from '../analysis/probe-file';
import { kernelHas } from '../kernel/kernel-version';
import type { Finding, QuickFix, Rule } from './rule';

export const DIAGNOSTIC_SOURCE = 'ebpf-studio';

/** What a diagnostic carries in `data`, so code actions need no server-side state. */
export interface DiagnosticData {
  ruleId: string;
  fix?: QuickFix;
}

function findDocsDirectory(): string | null {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'docs', 'rules');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

let docsDirectory: string | null | undefined;

/** file:// URI of docs/rules/<id>.md, found from where this code runs (bundle or source). */
export function ruleDocsUri(ruleId: string): string | undefined {
  if (docsDirectory === undefined) docsDirectory = findDocsDirectory();
  return docsDirectory ? pathToFileURL(join(docsDirectory, `${ruleId}.md`)).toString() : undefined;
}

const SEVERITY: Record<NonNullable<Finding['severity']>, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export function findingToDiagnostic(rule: Rule, finding: Finding): Diagnostic {
  const href = ruleDocsUri(rule.id);
  const data: DiagnosticData = finding.fix ? { ruleId: rule.id, fix: finding.fix } : { ruleId: rule.id };
  return {
    range: finding.range,
    severity: SEVERITY[finding.severity ?? 'error'],
    code: rule.id,
    ...(href ? { codeDescription: { href } } : {}),
    source: DIAGNOSTIC_SOURCE,
    message: `${finding.message} — the verifier says: "${finding.verifierMessage ?? rule.verifierMessage}"`,
    data,
  };
}

/** Whether a rule applies at all for this target kernel. */
function ruleAppliesToKernel(rule: Rule, file: ProbeFile): boolean {
  return kernelHas(file.targetKernel, rule.minKernel);
}

function ruleAppliesToTypes(rule: Rule, types: readonly string[]): boolean {
  return !rule.programTypes || types.some((type) => rule.programTypes?.includes(type));
}

function shiftRange(range: Range, lines: number): Range {
  return { start: { line: range.start.line + lines, character: range.start.character }, end: { line: range.end.line + lines, character: range.end.character } };
}

function shiftDiagnostic(diagnostic: Diagnostic, lines: number): Diagnostic {
  if (lines === 0) return diagnostic;
  const data = diagnostic.data as DiagnosticData;
  const fix = data.fix && {
    title: data.fix.title,
    edits: data.fix.edits.map((edit: TextEdit) => ({ range: shiftRange(edit.range, lines), newText: edit.newText })),
  };
  return { ...diagnostic, range: shiftRange(diagnostic.range, lines), data: fix ? { ...data, fix } : data };
}

export interface RuleFailure {
  ruleId: string;
  error: unknown;
}

interface CachedFunction {
  startLine: number;
  diagnostics: Diagnostic[];
}

/**
 * Checks the versions of one document. Function-level results are kept by a fingerprint of the
 * function (its text, column, program types) and of the file outside function bodies, so an edit
 * inside one function re-runs the rules for that function only; the others are moved by line.
 */
export class ProbeChecker {
  private cache = new Map<string, CachedFunction>();

  constructor(
    private readonly rules: readonly Rule[],
    private readonly onRuleFailure: (failure: RuleFailure) => void = () => undefined,
  ) {}

  check(file: ProbeFile): Diagnostic[] {
    const rules = this.rules.filter((rule) => ruleAppliesToKernel(rule, file));
    const diagnostics: Diagnostic[] = [];
    const fileTypes = [...new Set(file.programs.flatMap((fn) => (fn.programType ? [fn.programType] : [])))];
    for (const rule of rules) {
      if (rule.check && ruleAppliesToTypes(rule, fileTypes)) diagnostics.push(...this.run(rule, () => rule.check?.(file) ?? []));
    }
    const functionRules = rules.filter((rule) => rule.checkFunction);
    if (functionRules.length > 0) {
      const context = file.outsideBodiesHash;
      const next = new Map<string, CachedFunction>();
      for (const fn of file.functions) {
        const start = fn.node.startPosition;
        const types = file.programTypesOf(fn);
        const key = `${context}\u0000${start.column}\u0000${types.join(',')}\u0000${file.textOf(fn.node)}`;
        let cached = this.cache.get(key) ?? next.get(key);
        if (cached && cached.startLine !== start.row) {
          cached = { startLine: start.row, diagnostics: cached.diagnostics.map((d) => shiftDiagnostic(d, start.row - (cached as CachedFunction).startLine)) };
        }
        if (!cached) {
          const found: Diagnostic[] = [];
          for (const rule of functionRules) {
            if (!ruleAppliesToTypes(rule, types)) continue;
            found.push(...this.run(rule, () => rule.checkFunction?.(file, fn) ?? []));
          }
          cached = { startLine: start.row, diagnostics: found };
        }
        next.set(key, cached);
        diagnostics.push(...cached.diagnostics);
      }
      this.cache = next;
    }
    return diagnostics.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  }

  private run(rule: Rule, check: () => Finding[]): Diagnostic[] {
    try {
      return check().map((finding) => findingToDiagnostic(rule, finding));
    } catch (error) {
      this.onRuleFailure({ ruleId: rule.id, error });
      return [];
    }
  }
}

/** One-shot check (CLI, tests): every applicable rule on one file. */
export function checkProbeFile(file: ProbeFile, rules: readonly Rule[], onRuleFailure?: (failure: RuleFailure) => void): Diagnostic[] {
  return new ProbeChecker(rules, onRuleFailure).check(file);
}
