// Runs the registered rules on a ProbeFile and turns findings into LSP Diagnostics (rule id as
// code, docs page link, verifier quote). Per-function results are cached across edits.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type Diagnostic, type Range, type TextEdit } from 'vscode-languageserver-types';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { diffSpan } from '../analysis/probe-document';
import { functionDependencyKey, functionOwnText } from '../analysis/function-dependencies';
import { formatKernelVersion, kernelHas } from '../kernel/kernel-version';
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

export function findingToDiagnostic(rule: Rule, finding: Finding, uri: string): Diagnostic {
  const href = ruleDocsUri(rule.id);
  const data: DiagnosticData = finding.fix ? { ruleId: rule.id, fix: finding.fix } : { ruleId: rule.id };
  return {
    range: finding.range,
    severity: SEVERITY[finding.severity ?? 'error'],
    code: rule.id,
    ...(href ? { codeDescription: { href } } : {}),
    source: DIAGNOSTIC_SOURCE,
    message: `${finding.message} — the verifier says: "${finding.verifierMessage ?? rule.verifierMessage}"`,
    ...(finding.path?.length ? { relatedInformation: finding.path.map((step) => ({ location: { uri, range: step.range }, message: step.message })) } : {}),
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

/** Where a line (0-based) of one version is in the next; undefined when that line changed. */
type LineMap = (line: number) => number | undefined;

function mapRange(range: Range, map: LineMap): Range | undefined {
  const start = map(range.start.line);
  const end = map(range.end.line);
  if (start === undefined || end === undefined) return undefined;
  return { start: { line: start, character: range.start.character }, end: { line: end, character: range.end.character } };
}

/** Messages name lines ("on line 12", "the paths through lines 30, 41"), 1-based: moved with the ranges. */
const LINE_NUMBERS = /\b(lines? )(\d+(?:, \d+)*)/g;

function mapMessage(message: string, map: LineMap): string | undefined {
  let lost = false;
  const mapped = message.replace(LINE_NUMBERS, (_, word: string, numbers: string) => word + numbers.split(', ').map((number) => {
    const line = map(Number(number) - 1);
    if (line === undefined) lost = true;
    return String((line ?? 0) + 1);
  }).join(', '));
  return lost ? undefined : mapped;
}

/** A diagnostic with every range and line number it carries (its own, related information, quick-fix edits) mapped; undefined when one is lost. */
function mapDiagnostic(diagnostic: Diagnostic, map: LineMap): Diagnostic | undefined {
  const range = mapRange(diagnostic.range, map);
  const message = typeof diagnostic.message === 'string' ? mapMessage(diagnostic.message, map) : diagnostic.message;
  const data = diagnostic.data as DiagnosticData;
  const edits = data.fix?.edits.map((edit: TextEdit) => ({ range: mapRange(edit.range, map), newText: edit.newText }));
  const related = diagnostic.relatedInformation?.map((r) => ({ message: mapMessage(r.message, map), location: { ...r.location, range: mapRange(r.location.range, map) } }));
  if (!range || message === undefined || edits?.some((edit) => !edit.range) || related?.some((r) => r.message === undefined || !r.location.range)) return undefined;
  const fix = data.fix && edits && { title: data.fix.title, edits: edits as TextEdit[] };
  return { ...diagnostic, range, message, ...(related ? { relatedInformation: related as Diagnostic['relatedInformation'] } : {}), data: fix ? { ...data, fix } : data };
}

function shiftDiagnostic(diagnostic: Diagnostic, lines: number): Diagnostic {
  if (lines === 0) return diagnostic;
  return mapDiagnostic(diagnostic, (line) => line + lines) as Diagnostic;
}

export interface RuleFailure {
  ruleId: string;
  error: unknown;
}

/**
 * The text from the first to the last line a function's findings point at, the function included, as offsets
 * from the function's start: moving the findings with the function is right while this text is unchanged.
 */
interface PinnedSpan {
  from: number;
  to: number;
  text: string;
}

interface CachedFunction {
  startLine: number;
  diagnostics: Diagnostic[];
  /** Set when a finding points outside the function (a fix at the #include lines, a map's declaration). */
  pinned?: PinnedSpan;
}

/** Every range a diagnostic carries: its own, its related information's, its quick-fix edits'. */
function rangesOf(diagnostic: Diagnostic): Range[] {
  const fix = (diagnostic.data as DiagnosticData | undefined)?.fix;
  return [diagnostic.range, ...(diagnostic.relatedInformation ?? []).map((related) => related.location.range), ...(fix?.edits ?? []).map((edit: TextEdit) => edit.range)];
}

/** The span a function's findings depend on by position, when some point outside the function's lines. */
function pinnedSpan(file: ProbeFile, node: ProbeFile['root'], diagnostics: Diagnostic[]): PinnedSpan | undefined {
  const ranges = diagnostics.flatMap(rangesOf);
  const first = Math.min(node.startPosition.row, ...ranges.map((range) => range.start.line));
  const last = Math.max(node.endPosition.row, ...ranges.map((range) => range.end.line));
  if (first === node.startPosition.row && last === node.endPosition.row) return undefined;
  const from = file.offsetAt({ line: first, character: 0 });
  const to = file.offsetAt({ line: last + 1, character: 0 });
  return { from: from - node.startIndex, to: to - node.startIndex, text: file.text.slice(from, to) };
}

/** A whole-file rule that took longer than this on its last run is deferred while the user types. */
export const SLOW_FILE_RULE_MS = 4;

interface FileRuleResult {
  /** The version it ran on. */
  version: VersionLines;
  kernel: string;
  diagnostics: Diagnostic[];
  millis: number;
}

export interface QuickCheck {
  diagnostics: Diagnostic[];
  /** Slow whole-file rules were not re-run; their last findings were carried over (moved by line). Run check() when idle. */
  deferred: string[];
  /**
   * The document's first check ran out of its time slice: some functions or whole-file rules have not run yet
   * and none of their findings are in `diagnostics`. Check again at once to go on (checked parts are kept).
   */
  incomplete: boolean;
}

/** A version's text and the line (0-based) of an offset in it. */
interface VersionLines {
  text: string;
  lineAt(offset: number): number;
}

function scannedLines(text: string): VersionLines {
  return {
    text,
    lineAt(offset) {
      let line = 0;
      for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
      return line;
    },
  };
}

/** The one span where two versions differ, by line of `before`, and how many lines it adds or removes. */
interface ChangedLines {
  /** Offset where the versions start to differ (the same in both). */
  prefix: number;
  /** Characters equal at the end of both versions. */
  suffix: number;
  firstChanged: number;
  lastChangedBefore: number;
  delta: number;
}

function changedLines(before: VersionLines, after: VersionLines): ChangedLines {
  const span = diffSpan(before.text, after.text) ?? { start: before.text.length, oldEnd: before.text.length, newEnd: after.text.length };
  const firstChanged = before.lineAt(span.start);
  const lastChangedBefore = before.lineAt(span.oldEnd);
  return { prefix: span.start, suffix: before.text.length - span.oldEnd, firstChanged, lastChangedBefore, delta: after.lineAt(span.newEnd) - lastChangedBefore };
}

/** Lines of `before` on `after`: those above the change stay, those below move by the lines it added or removed. */
function lineMapOf(change: ChangedLines): LineMap {
  return (line) => (line < change.firstChanged ? line : line > change.lastChangedBefore ? line + change.delta : undefined);
}

/**
 * Moves diagnostics computed on `before` onto `after`: lines above the changed span stay, lines
 * below move by the number of lines added or removed, and diagnostics inside the span are dropped.
 */
export function carryDiagnostics(diagnostics: readonly Diagnostic[], before: string, after: string): Diagnostic[] {
  if (before === after) return [...diagnostics];
  return carryThrough(diagnostics, changedLines(scannedLines(before), scannedLines(after)));
}

function carryThrough(diagnostics: readonly Diagnostic[], change: ChangedLines): Diagnostic[] {
  return diagnostics.flatMap((d) => {
    if (d.range.end.line < change.firstChanged) return [d];
    if (d.range.start.line > change.lastChangedBefore) return [shiftDiagnostic(d, change.delta)];
    return [];
  });
}

/** Where a version's function bodies are (offsets, taken when it was checked: its tree may be reused by the next version's parse). */
interface CheckedVersion extends VersionLines {
  /** Per function: its start, and its body's start and end. */
  bodies: { start: number; bodyStart: number; bodyEnd: number }[];
}

/** A file's text, its lines read from the file's line starts. */
function linesOf(file: ProbeFile): VersionLines {
  return { text: file.text, lineAt: (offset) => file.positionAt(offset).line };
}

function checkedVersionOf(file: ProbeFile): CheckedVersion {
  return {
    ...linesOf(file),
    bodies: file.functions.map((fn) => ({ start: fn.node.startIndex, bodyStart: fn.body.startIndex, bodyEnd: fn.body.endIndex })),
  };
}

/** The start of the function whose body (inside its braces) holds the text from `from` to `to`. */
function functionWithBodyAround(version: CheckedVersion, from: number, to: number): number | undefined {
  return version.bodies.find((body) => body.bodyStart < from && to < body.bodyEnd)?.start;
}

/**
 * When `after` differs from `before` only inside one function's body (in both versions), nothing outside
 * function bodies changed: the lines of `before` map onto `after` by the changed span alone.
 */
function bodyEditBetween(before: CheckedVersion, after: CheckedVersion): ChangedLines | undefined {
  if (before.text === after.text) return undefined;
  const change = changedLines(before, after);
  const inBefore = functionWithBodyAround(before, change.prefix, before.text.length - change.suffix);
  return inBefore !== undefined && inBefore === functionWithBodyAround(after, change.prefix, after.text.length - change.suffix) ? change : undefined;
}

/** A pinned function's results moved onto `file` through a body edit elsewhere; undefined when a range touches the edit. */
function movePinned(file: ProbeFile, fn: ProbeFunction, cached: CachedFunction, change: ChangedLines): CachedFunction | undefined {
  const map = lineMapOf(change);
  const diagnostics: Diagnostic[] = [];
  for (const diagnostic of cached.diagnostics) {
    const moved = mapDiagnostic(diagnostic, map);
    if (!moved) return undefined;
    diagnostics.push(moved);
  }
  const pinned = pinnedSpan(file, fn.node, diagnostics);
  return pinned ? { startLine: fn.node.startPosition.row, diagnostics, pinned } : { startLine: fn.node.startPosition.row, diagnostics };
}

/**
 * Checks the versions of one document. Function-level results are kept by a fingerprint of the
 * function (its text, column, program types) and of what its checks read outside it (the declarations
 * defining the names it uses, see functionDependencyKey), so an edit inside one function re-runs the
 * rules for that function only, and an edit of a struct or #define re-runs them for the functions that
 * use it; the others are moved by line.
 */
export class ProbeChecker {
  private cache = new Map<string, CachedFunction>();
  /** The version whose lines the cached functions' diagnostics are on. */
  private cachedVersion: CheckedVersion | undefined;
  private readonly fileRuleResults = new Map<string, FileRuleResult>();

  private lastWhole: { text: string; functionCount: number; diagnostics: Diagnostic[] } | undefined;
  /** Set once a check has run every rule on every function: slices apply only before that. */
  private checkedInFull = false;

  constructor(
    private readonly rules: readonly Rule[],
    private readonly onRuleFailure: (failure: RuleFailure) => void = () => undefined,
    /** Editor mode: while an edit leaves the file unparsable (functions lost to an error), keep the last diagnostics. */
    private readonly holdWhileBroken = false,
  ) {}

  /** Every applicable rule on this version. */
  check(file: ProbeFile): Diagnostic[] {
    return this.checkWith(file, false).diagnostics;
  }

  /**
   * For keystrokes: like check(), but a whole-file rule that was slow last time keeps its previous
   * findings (moved to the new lines) instead of re-running; `deferred` names them. Until the document
   * has been checked in full once, no new function or rule is started after `firstCheckSliceMs` (see
   * QuickCheck.incomplete), so a large file's first findings are published before all of them are known.
   */
  checkQuickly(file: ProbeFile, firstCheckSliceMs = Infinity): QuickCheck {
    return this.checkWith(file, true, this.checkedInFull ? Infinity : performance.now() + firstCheckSliceMs);
  }

  private checkWith(file: ProbeFile, deferSlow: boolean, deadline = Infinity): QuickCheck {
    const last = this.lastWhole;
    if (this.holdWhileBroken && last && file.root.hasError && file.functions.length < last.functionCount) {
      // half-typed code swallowed functions into an error: show the last findings, moved to the new lines
      return { diagnostics: carryDiagnostics(last.diagnostics, last.text, file.text), deferred: [], incomplete: false };
    }
    const result = this.checkAll(file, deferSlow, deadline);
    if (!result.incomplete) this.checkedInFull = true;
    if (!file.root.hasError || !last || file.functions.length >= last.functionCount) {
      this.lastWhole = { text: file.text, functionCount: file.functions.length, diagnostics: result.diagnostics };
    }
    return result;
  }

  private checkAll(file: ProbeFile, deferSlow: boolean, deadline: number): QuickCheck {
    const rules = this.rules.filter((rule) => ruleAppliesToKernel(rule, file));
    const diagnostics: Diagnostic[] = [];
    const deferred: string[] = [];
    let incomplete = false;
    let ran = 0;
    // each call runs at least one function or rule, so a first check always moves on
    const overdue = () => ran > 0 && performance.now() > deadline;
    const functionRules = rules.filter((rule) => rule.checkFunction);
    if (functionRules.length > 0) {
      const next = new Map<string, CachedFunction>();
      const version = checkedVersionOf(file);
      const bodyEdit = this.cachedVersion && bodyEditBetween(this.cachedVersion, version);
      // nothing kept yet (a first check): a function left for a later slice needs no key now
      const firstSlices = this.cache.size === 0;
      for (const fn of file.functions) {
        if (firstSlices && overdue()) {
          incomplete = true;
          continue;
        }
        const start = fn.node.startPosition;
        const types = file.programTypesOf(fn);
        const key = `${functionDependencyKey(file, fn)}\u0000${start.column}\u0000${types.join(',')}\u0000${functionOwnText(file, fn)}`;
        const previous = this.cache.get(key);
        let cached = previous ?? next.get(key);
        const pinned = cached?.pinned;
        if (pinned && previous && bodyEdit) {
          // only another function's body changed: the declarations these findings point at moved by the change alone
          cached = movePinned(file, fn, previous, bodyEdit);
        } else if (pinned && file.text.slice(fn.node.startIndex + pinned.from, fn.node.startIndex + pinned.to) !== pinned.text) {
          cached = undefined;
        }
        if (cached && cached.startLine !== start.row) {
          cached = { startLine: start.row, diagnostics: cached.diagnostics.map((d) => shiftDiagnostic(d, start.row - (cached as CachedFunction).startLine)) };
        }
        if (!cached && overdue()) {
          incomplete = true;
          continue;
        }
        if (!cached) {
          ran++;
          const found: Diagnostic[] = [];
          for (const rule of functionRules) {
            if (!ruleAppliesToTypes(rule, types)) continue;
            found.push(...this.run(rule, file.uri, () => rule.checkFunction?.(file, fn) ?? []));
          }
          const span = pinnedSpan(file, fn.node, found);
          cached = span ? { startLine: start.row, diagnostics: found, pinned: span } : { startLine: start.row, diagnostics: found };
        }
        next.set(key, cached);
        diagnostics.push(...cached.diagnostics);
      }
      this.cache = next;
      this.cachedVersion = version;
    }
    const fileTypes = [...new Set(file.programs.flatMap((fn) => (fn.programType ? [fn.programType] : [])))];
    const now = linesOf(file);
    // deferred rules mostly ran on the same earlier version: one diff for all of them
    const changes = new Map<VersionLines, ChangedLines>();
    const changeSince = (before: VersionLines) => {
      let change = changes.get(before);
      if (!change) changes.set(before, (change = changedLines(before, now)));
      return change;
    };
    for (const rule of rules) {
      if (!rule.check || !ruleAppliesToTypes(rule, fileTypes)) continue;
      const previous = this.fileRuleResults.get(rule.id);
      const kernel = `${formatKernelVersion(file.targetKernel)} ${file.helperAvailability.key}`;
      if (previous && previous.version.text === file.text && previous.kernel === kernel) {
        diagnostics.push(...previous.diagnostics);
        continue;
      }
      if (deferSlow && previous && previous.kernel === kernel && previous.millis > SLOW_FILE_RULE_MS) {
        diagnostics.push(...carryThrough(previous.diagnostics, changeSince(previous.version)));
        deferred.push(rule.id);
        continue;
      }
      if (overdue()) {
        incomplete = true;
        continue;
      }
      ran++;
      const started = performance.now();
      const found = this.run(rule, file.uri, () => rule.check?.(file) ?? []);
      this.fileRuleResults.set(rule.id, { version: now, kernel, diagnostics: found, millis: performance.now() - started });
      diagnostics.push(...found);
    }
    diagnostics.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
    return { diagnostics, deferred, incomplete };
  }

  private run(rule: Rule, uri: string, check: () => Finding[]): Diagnostic[] {
    try {
      return check().map((finding) => findingToDiagnostic(rule, finding, uri));
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
