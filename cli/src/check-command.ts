// `ebpf-studio check [--kernel X.Y] [--format text|json] [-I DIR]... FILE...`: runs the language
// server's static rules on each file; exit 0 (no errors), 1 (errors), 2 (the tool failed).
import { isUtf8 } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { pathToFileURL } from 'node:url';
import type { Writable } from 'node:stream';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver-types';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { loadCLanguage } from '../../server/src/analysis/c-parser';
import { checkProbeFile } from '../../server/src/rules/rule-engine';
import { allRules } from '../../server/src/rules/index';
import { parseKernelVersion, runningKernelVersion, type KernelVersion } from '../../server/src/kernel/kernel-version';
import type { KernelVerdict } from '../../engine/verify/verdict-matrix';
import { openCliTarget, verifyCliOptions, verifyFilesForCheck, VERIFY_OPTIONS, VERIFY_USAGE, type VerifyCliOptions } from './verify-option';
import { probePrograms } from '../../server/src/analysis/probe-programs';
import type { ProbeProgram } from '../../protocol/lsp-requests';
import { parseCommandLine, UsageError } from './command-line';

export const CHECK_USAGE = `Usage: ebpf-studio check [--kernel X.Y] [--format text|json] [-I DIR]... FILE...

Checks eBPF C files against the verifier's rules and helper availability without a kernel
(the same rules as the editor). Exit status: 0 no errors, 1 errors found, 2 the check itself failed.

  --kernel X.Y          target kernel for the version rules (default: this machine's, uname -r)
  --format text|json    output format (default text); json prints [{"file", "diagnostics": [LSP Diagnostic]}], with --verify
                        also "verdicts": [{"target", "label", "kernelRelease", "verdict", "programs"}] per target
  -I DIR                include directory (passed to clang with --verify; the static rules need no headers)
${VERIFY_USAGE}`;

export interface FileDiagnostics {
  file: string;
  diagnostics: Diagnostic[];
  /** With --verify: the probe's verdict on each --target (kernel release, programs, the log of each rejection). */
  verdicts?: KernelVerdict[];
}

interface CheckOptions {
  kernel: KernelVersion;
  format: 'text' | 'json';
  includePaths: string[];
  files: string[];
  verify: VerifyCliOptions;
}

/** Reads check's arguments (its own options and the --verify ones); throws UsageError. */
export function parseCheckArgs(args: string[]): CheckOptions {
  const { values, positionals } = parseCommandLine(args, {
    kernel: { type: 'string' },
    format: { type: 'string', default: 'text' },
    include: { type: 'string', short: 'I', multiple: true, default: [] },
    ...VERIFY_OPTIONS,
  });
  let kernel = runningKernelVersion();
  if (values.kernel !== undefined) {
    const version = /^\s*v?\d+\.\d+(\.\d+)?\s*$/.test(values.kernel) ? parseKernelVersion(values.kernel) : null;
    if (!version) throw new UsageError(`--kernel "${values.kernel}" is not a kernel version (e.g. 5.15 or 6.1.0).`);
    kernel = version;
  }
  if (values.format !== 'text' && values.format !== 'json') throw new UsageError(`--format is text or json, not "${values.format}".`);
  if (positionals.length === 0) throw new UsageError('No FILE given.');
  return { kernel, format: values.format, includePaths: values.include, files: positionals, verify: verifyCliOptions(values) };
}

/** Static diagnostics for one file's text (what the editor shows for it), and its programs from the same parse. */
async function checkSource(text: string, path: string, kernel: KernelVersion): Promise<{ diagnostics: Diagnostic[]; programs: ProbeProgram[] }> {
  const file = await parseProbeFile(text, { uri: pathToFileURL(resolve(path)).toString(), targetKernel: kernel });
  const failures: string[] = [];
  const diagnostics = checkProbeFile(file, allRules, (failure) => failures.push(failure.ruleId));
  if (failures.length) throw new Error(`rules failed on ${path}: ${failures.join(', ')}`);
  return { diagnostics, programs: probePrograms(file) };
}

/** Static diagnostics for one file's text (what the editor shows for it). */
export async function checkText(text: string, path: string, kernel: KernelVersion): Promise<Diagnostic[]> {
  return (await checkSource(text, path, kernel)).diagnostics;
}

const SEVERITY_NAMES: Record<number, string> = { 1: 'error', 2: 'warning', 3: 'info', 4: 'hint' };

function messageText(diagnostic: Diagnostic): string {
  return typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
}

export function formatText(results: FileDiagnostics[]): string {
  const lines: string[] = [];
  let errors = 0;
  let warnings = 0;
  for (const { file, diagnostics, verdicts } of results) {
    if (verdicts && verdicts.length > 1) lines.push(`${file}: ${verdicts.map((v) => `${v.verdict} by ${v.label} (${v.target}, ${v.kernelRelease})`).join('; ')}`);
    for (const d of diagnostics) {
      const severity = SEVERITY_NAMES[d.severity ?? 1];
      if (d.severity === DiagnosticSeverity.Error || d.severity === undefined) errors++;
      else if (d.severity === DiagnosticSeverity.Warning) warnings++;
      lines.push(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${severity}: ${messageText(d)}${d.code !== undefined ? ` [${d.code}]` : ''}`);
    }
  }
  lines.push(`${results.length} file${results.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}

/** Entry from cli.ts: returns the exit code. */
/** The file's text; a FIFO, a device or bytes that are not text (NULs, invalid UTF-8) are refused, not checked as C. */
async function readCSource(file: string): Promise<string> {
  const info = await stat(file);
  if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  if (!info.isFile()) throw new Error('not a regular file');
  const bytes = await readFile(file);
  if (bytes.includes(0) || !isUtf8(bytes)) throw new Error('not C source text (it holds NUL bytes or is not UTF-8)');
  return bytes.toString('utf8');
}

export async function runCheckCommand(args: string[], out: Writable = process.stdout, err: Writable = process.stderr): Promise<number> {
  let options: CheckOptions;
  try {
    options = parseCheckArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (!error.message) {
      out.write(`${CHECK_USAGE}\n`);
      return 0;
    }
    err.write(`ebpf-studio check: ${error.message}\n\n${CHECK_USAGE}\n`);
    return 2;
  }
  const texts: string[] = [];
  for (const file of options.files) {
    try {
      texts.push(await readCSource(file));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
      err.write(`ebpf-studio check: cannot read ${file}: ${reason}\n`);
      return 2;
    }
  }
  // A check is one short process: the parser's WebAssembly compiled by Liftoff alone. With V8's optimising tier too, its background
  // compile took CPU from the rules and clang, and held the process ~200 ms at exit (measured on drsnoop.bpf.c).
  setFlagsFromString('--liftoff-only');
  // The parser's WebAssembly compiles meanwhile; its errors surface where the parse awaits it.
  loadCLanguage().catch(() => undefined);
  // --verify starts first: the agent's start and clang run beside the static rules, which need neither.
  const programs = options.files.map(() => {
    let settle = { resolve: (_: readonly ProbeProgram[]) => undefined as void, reject: (_: unknown) => undefined as void };
    const promise = new Promise<readonly ProbeProgram[]>((resolve, reject) => (settle = { resolve, reject }));
    promise.catch(() => undefined);
    return { promise, ...settle };
  });
  let compileStarted = (): void => undefined;
  const compiling = new Promise<void>((resolveStarted) => (compileStarted = resolveStarted));
  const verification = options.verify.verify
    ? verifyFilesForCheck(options.files, { ...options.verify, includePaths: options.includePaths }, (line) => err.write(`${line}\n`), openCliTarget, {
        programsOf: (file) => programs[options.files.indexOf(file)].promise,
        onCompileStarted: compileStarted,
      })
    : undefined;
  verification?.catch(() => undefined);
  if (verification) await Promise.race([compiling, verification.then(() => undefined, () => undefined)]);

  const results: FileDiagnostics[] = [];
  for (const [i, file] of options.files.entries()) {
    try {
      const checked = await checkSource(texts[i], file, options.kernel);
      programs[i].resolve(checked.programs);
      results.push({ file, diagnostics: checked.diagnostics });
    } catch (error) {
      err.write(`ebpf-studio check: checking ${file} failed: ${error instanceof Error ? error.message : String(error)}\n`);
      programs.forEach((p) => p.reject(error));
      await verification?.catch(() => undefined);
      return 2;
    }
  }
  if (verification) {
    try {
      const verified = await verification;
      for (const entry of verified) {
        const known = results.find((r) => resolve(r.file) === resolve(entry.file));
        if (known) {
          known.diagnostics.push(...entry.diagnostics);
          if (entry.verdicts) known.verdicts = entry.verdicts;
        } else results.push(entry);
      }
    } catch (error) {
      err.write(`ebpf-studio check --verify: ${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
  }
  out.write(options.format === 'json' ? `${JSON.stringify(results, null, 2)}\n` : formatText(results));
  const hasErrors = results.some((r) => r.diagnostics.some((d) => (d.severity ?? DiagnosticSeverity.Error) === DiagnosticSeverity.Error));
  return hasErrors ? 1 : 0;
}
