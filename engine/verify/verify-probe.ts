// The whole tier-2 check of one probe, for the editor and the CLI alike: compile with clang (vmlinux.h from the
// target's BTF when needed), verify each program through the target's agent, parse the logs into diagnostics.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver-types';
import type { HelloResult, MapSize, ProgramVerdict } from '../../protocol/agent-rpc';
import type { ProbeProgram } from '../../protocol/lsp-requests';
import { explainKprobesUnavailable } from './explain-verifier-message';
import { verdictDiagnostic, type LineOrigin } from './verifier-diagnostics';
import { AgentRequestError, type AgentClient } from '../targets/agent-client';
import { localCompileFacts } from '../targets/local-machine-facts';
import { compileProbe, includeDirs, probeCodegenFlags } from '../toolchain/compile-probe';
import { findClang } from '../toolchain/find-clang';
import { findVmlinuxHeader, generateVmlinuxInBackground, includesVmlinuxHeader, provideVmlinuxHeader, type VmlinuxOrigin } from '../toolchain/vmlinux-header';
import { writeProbeVmlinuxSubset, type ProbeVmlinuxSubset } from '../toolchain/vmlinux-probe-subset';
import { sanitizeBtfNames } from '../toolchain/btf-names';
import { builtPrecompiledVmlinux, precompileCommand, precompileVmlinuxInBackground } from '../toolchain/vmlinux-pch';

export interface VerifyProbeOptions {
  sourcePath: string;
  /** The probe's programs from the language server's parse (ebpfStudio/programs, or the CLI's static pass); needed only after the verify. */
  programs: readonly ProbeProgram[] | Promise<readonly ProbeProgram[]>;
  /** A connected agent on the target (local or SSH), or one still starting: it is awaited only when the verify needs it. */
  agent: AgentClient | Promise<AgentClient>;
  /** The target is this machine (the local agent): the compile reads the kernel's facts and BTF here and starts without the agent. */
  sameMachine?: boolean;
  /** ebpfStudio.includePaths / -I. */
  includePaths?: string[];
  /** ebpfStudio.clangPath / --clang ('' = search PATH). */
  clangPath?: string;
  logLevel?: 1 | 2;
  /** Map sizes set before load (--map-size), as `run` sets them; unsized maps get the agent's defaults either way. */
  mapSizes?: Record<string, MapSize>;
  /** Where generated vmlinux.h files are cached (default ~/.cache/ebpf-studio/vmlinux). */
  vmlinuxCacheRoot?: string;
  /** Lines for the target's output channel: the clang command, where vmlinux.h came from, timings. */
  onProgress?: (line: string) => void;
  /** Called once clang (or bpftool generating vmlinux.h) is running, or no compile will run, so a caller can start other work beside it. */
  onCompileStarted?: () => void;
  /** Milliseconds the agent may take to verify the object. */
  verifyTimeoutMs?: number;
}

export interface ProgramReport extends ProgramVerdict {
  /** 0-based line of the program's SEC(...) declaration in the source, for code lenses. */
  declarationLine?: number;
  /** Where the verifier rejected it (absolute path, 0-based line, and how that line was found). */
  failure?: { path: string; line: number; lineFrom: LineOrigin };
}

export type ProbeVerdict = 'accepted' | 'rejected' | 'compile-error' | 'load-error';

export interface VerifyProbeResult {
  sourcePath: string;
  verdict: ProbeVerdict;
  /** Diagnostics (sources 'clang' and 'verifier') by absolute file path; files with none are absent. */
  diagnostics: Map<string, Diagnostic[]>;
  programs: ProgramReport[];
  vmlinux?: VmlinuxOrigin;
  target: HelloResult;
  /** The compiled object (absent after a compile error), to re-verify one program at log level 2 on demand. */
  object?: Buffer;
  timings: { vmlinuxMs: number; compileMs: number; verifyMs: number; parseMs: number; totalMs: number };
}

const hellos = new WeakMap<AgentClient, Promise<HelloResult>>();

/** The target's hello, asked once per connection. */
export function targetHello(agent: AgentClient): Promise<HelloResult> {
  let hello = hellos.get(agent);
  if (!hello) {
    hello = agent.request('hello', {});
    hellos.set(agent, hello);
    hello.catch(() => hellos.delete(agent));
  }
  return hello;
}

function addDiagnostic(map: Map<string, Diagnostic[]>, path: string, diagnostic: Diagnostic): void {
  const list = map.get(path) ?? [];
  list.push(diagnostic);
  map.set(path, list);
}

/** The progress line saying where vmlinux.h came from. */
function vmlinuxProgress(vmlinux: VmlinuxOrigin, targetName: string, kernelRelease: string): string {
  if (vmlinux.origin === 'include-path') return `vmlinux.h: ${vmlinux.path} (from the include path)`;
  const how = { 'probe-subset': `only the types the probe names, in ${'ms' in vmlinux ? vmlinux.ms : 0} ms; the whole header and its precompiled form follow in the background`, generated: `generated in ${'ms' in vmlinux ? vmlinux.ms : 0} ms`, cache: 'cached' }[vmlinux.origin];
  return `vmlinux.h: ${vmlinux.path} (${how}, from the BTF of ${targetName}'s kernel ${kernelRelease}, sha256 ${vmlinux.sha256.slice(0, 12)}…)`;
}

function wholeFileDiagnostic(message: string, source: 'verifier' | 'clang', code?: string): Diagnostic {
  return { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, severity: DiagnosticSeverity.Error, source, message, ...(code ? { code } : {}) };
}

const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

export async function verifyProbe(options: VerifyProbeOptions): Promise<VerifyProbeResult> {
  const started = performance.now();
  const sourcePath = resolve(options.sourcePath);
  const progress = options.onProgress ?? (() => undefined);
  const agentReady = Promise.resolve(options.agent);
  const hello = agentReady.then(targetHello);
  // Awaited where the agent is needed; a failure to start surfaces there, not as an unhandled rejection meanwhile.
  hello.catch(() => undefined);
  // vmlinux.h needs only the kernel's facts: it is generated while clang is still being found (asked its version).
  const clangFound = findClang(options.clangPath ?? '');
  clangFound.catch(() => undefined);
  const facts = await (options.sameMachine ? localCompileFacts() : hello);
  const timings = { vmlinuxMs: 0, compileMs: 0, verifyMs: 0, parseMs: 0, totalMs: 0 };
  const diagnostics = new Map<string, Diagnostic[]>();
  const finish = async (verdict: ProbeVerdict, programs: ProgramReport[], vmlinux?: VmlinuxOrigin, object?: Buffer): Promise<VerifyProbeResult> => {
    const target = await hello;
    timings.totalMs = Math.round(performance.now() - started);
    return { sourcePath, verdict, diagnostics, programs, target, timings, ...(vmlinux ? { vmlinux } : {}), ...(object ? { object } : {}) };
  };

  let sourceText: string;
  try {
    sourceText = readFileSync(sourcePath, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read ${sourcePath}: ${(err as Error).message}`);
  }

  let vmlinux: VmlinuxOrigin | undefined;
  let subset: { files: ProbeVmlinuxSubset; sanitizedBtf: Buffer; sha256: string } | undefined;
  const searchDirs = includeDirs(sourcePath, facts.arch, options.includePaths);
  const fetchBtf = options.sameMachine ? () => readFile(VMLINUX_BTF) : async () => Buffer.from((await (await agentReady).request('btf', {})).btf, 'base64');
  /** The whole vmlinux.h: from the include path, the cache, or generated now. */
  const wholeHeader = () =>
    provideVmlinuxHeader(
      searchDirs,
      { ...(facts.btfSha256 ? { knownSha256: facts.btfSha256 } : {}), fetchBtf },
      options.vmlinuxCacheRoot,
      // bpftool runs in its own process: the caller's work beside clang may start now.
      options.onCompileStarted,
    );
  if (includesVmlinuxHeader(sourceText)) {
    const t = performance.now();
    if (!facts.btfPresent) {
      addDiagnostic(diagnostics, sourcePath, wholeFileDiagnostic(`The probe includes vmlinux.h, but the target kernel ${facts.kernelRelease} has no BTF (/sys/kernel/btf/vmlinux), so it cannot be generated. Put a vmlinux.h for that kernel on the include path, or include <linux/bpf.h> and kernel headers instead.`, 'clang', 'no-btf'));
      options.onCompileStarted?.();
      return finish('compile-error', []);
    }
    vmlinux = findVmlinuxHeader(searchDirs, facts.btfSha256, options.vmlinuxCacheRoot);
    if (!vmlinux) {
      // The first compile on this kernel: only the types this probe names (a fraction of the header to generate and parse);
      // the whole header is generated in the background once it compiled. Anything failing here falls back to the whole header.
      try {
        const btf = await fetchBtf();
        const sha256 = options.sameMachine && facts.btfSha256 ? facts.btfSha256 : createHash('sha256').update(btf).digest('hex');
        const sanitizedBtf = sanitizeBtfNames(btf).btf;
        const files = await writeProbeVmlinuxSubset({ clang: await clangFound, sourcePath, machine: facts.arch, ...(options.includePaths ? { includePaths: options.includePaths } : {}), btf: sanitizedBtf });
        subset = { files, sanitizedBtf, sha256 };
        vmlinux = { origin: 'probe-subset', path: join(files.dir, 'vmlinux.h'), sha256, ms: Math.round(performance.now() - t) };
      } catch {
        subset = undefined;
      }
    }
    vmlinux ??= await wholeHeader();
    timings.vmlinuxMs = Math.round(performance.now() - t);
    progress(vmlinuxProgress(vmlinux, options.sameMachine ? 'this machine' : (await agentReady).targetName, facts.kernelRelease));
  }

  const clang = await clangFound;
  const codegenFlags = probeCodegenFlags({ machine: facts.arch });
  const compile = (header: VmlinuxOrigin | undefined) => {
    const cached = header && (header.origin === 'cache' || header.origin === 'generated') ? header.path : undefined;
    const precompiledHeader = cached ? builtPrecompiledVmlinux(clang, cached, codegenFlags, sourceText) : undefined;
    const compiling = compileProbe({
      sourcePath,
      clang,
      machine: facts.arch,
      ...(options.includePaths ? { includePaths: options.includePaths } : {}),
      ...(header && header.origin !== 'include-path' ? { vmlinuxDir: dirname(header.path) } : {}),
      ...(precompiledHeader ? { precompiledHeader } : {}),
    });
    // The first compile with this kernel's whole header and clang parsed it plainly; the next ones read it precompiled.
    if (cached && !precompiledHeader) void compiling.then(() => precompileVmlinuxInBackground(clang, cached, codegenFlags, sourceText));
    return compiling;
  };
  const compiling = compile(vmlinux);
  options.onCompileStarted?.();
  let compiled = await compiling;
  if (subset) {
    subset.files.remove();
    if (compiled.object) generateVmlinuxInBackground(subset.sanitizedBtf, subset.sha256, options.vmlinuxCacheRoot, (header) => precompileCommand(clang, header, codegenFlags, sourceText));
    else {
      // clang's messages come from the whole header, as they would on any later run.
      progress(`clang failed with the types ${basename(sourcePath)} names; compiling again with the whole vmlinux.h`);
      vmlinux = await wholeHeader();
      progress(vmlinuxProgress(vmlinux, options.sameMachine ? 'this machine' : (await agentReady).targetName, facts.kernelRelease));
      compiled = await compile(vmlinux);
    }
  }
  timings.compileMs = compiled.ms;
  progress(`$ ${compiled.command.join(' ')}  (${compiled.ms} ms)`);
  for (const [path, list] of compiled.diagnostics) for (const d of list) addDiagnostic(diagnostics, path, d);
  if (!compiled.object) return finish('compile-error', [], vmlinux);
  const objectBytes = compiled.object;

  const verifyRequest = {
    object: objectBytes.toString('base64'),
    objectName: basename(sourcePath).replace(/\.c$/, '.o'),
    ...(options.mapSizes && Object.keys(options.mapSizes).length ? { mapSizes: options.mapSizes } : {}),
  };
  const agent = await agentReady;
  const target = await hello;
  const t = performance.now();
  let verdicts: ProgramVerdict[];
  try {
    const result = await agent.request(
      'verify',
      { ...verifyRequest, ...(options.logLevel ? { logLevel: options.logLevel } : {}) },
      { timeoutMs: options.verifyTimeoutMs ?? 300_000 },
    );
    verdicts = result.programs;
    for (const map of result.sizedMaps ?? []) progress(`map ${map.name}: ${map.sizing}`);
    for (const skipped of result.skipped ?? []) progress(`${skipped.name} (${skipped.section}): not verified, ${skipped.reason}`);
  } catch (err) {
    if (!(err instanceof AgentRequestError) || !['ENOPROGRAMS', 'ENOTBPF', 'ENOENT'].includes(err.code)) throw err;
    addDiagnostic(diagnostics, sourcePath, wholeFileDiagnostic(err.message, 'verifier', { ENOPROGRAMS: 'no-programs', ENOENT: 'unknown-name' }[err.code] ?? 'not-bpf'));
    return finish('load-error', [], vmlinux, objectBytes);
  }
  timings.verifyMs = Math.round(performance.now() - t);

  const p = performance.now();
  const sourceLines = sourceText.split('\n');
  const declarationLines = new Map((await options.programs).map((program) => [program.name, program.line]));
  const diagnose = (verdict: ProgramVerdict) => {
    const declarationLine = declarationLines.get(verdict.name);
    return verdictDiagnostic(verdict, { sourcePath, object: objectBytes, ...(target.lockdown ? { lockdown: target.lockdown } : {}), ...(declarationLine !== undefined ? { declarationLine } : {}) });
  };
  const programs: ProgramReport[] = [];
  let rerunMs = 0;
  for (let verdict of verdicts) {
    let rejected = diagnose(verdict);
    if (rejected && rejected.lineFrom !== 'line-info' && (options.logLevel ?? 1) === 1 && verdict.log.trim() !== '') {
      // Level 1 drops the log of finished paths; level 2 keeps every annotation, so its nearest one is exact.
      const t2 = performance.now();
      const [detailed] = (await agent.request('verify', { ...verifyRequest, programs: [verdict.name], logLevel: 2 }, { timeoutMs: options.verifyTimeoutMs ?? 300_000 })).programs;
      rerunMs += performance.now() - t2;
      timings.verifyMs += Math.round(performance.now() - t2);
      if (detailed && !detailed.accepted) {
        verdict = detailed;
        rejected = diagnose(detailed);
      }
    }
    if (rejected) addDiagnostic(diagnostics, rejected.path, rejected.diagnostic);
    const declarationLine = declarationLines.get(verdict.name);
    const noKprobes = verdict.accepted && target.kprobes === false ? explainKprobesUnavailable(verdict.section) : undefined;
    if (noKprobes && declarationLine !== undefined) {
      const text = sourceLines[declarationLine] ?? '';
      addDiagnostic(diagnostics, sourcePath, {
        range: { start: { line: declarationLine, character: 0 }, end: { line: declarationLine, character: Math.max(1, text.length) } },
        severity: DiagnosticSeverity.Information,
        source: 'verifier',
        code: noKprobes.family,
        message: `${verdict.name} verifies on ${agent.targetName}, but cannot attach there.\n${noKprobes.explanation}`,
      });
    }
    programs.push({
      ...verdict,
      ...(declarationLine !== undefined ? { declarationLine } : {}),
      ...(rejected ? { failure: { path: rejected.path, line: rejected.diagnostic.range.start.line, lineFrom: rejected.lineFrom } } : {}),
    });
  }
  timings.parseMs = Math.max(0, Math.round(performance.now() - p - rerunMs));
  for (const program of programs) {
    progress(
      program.accepted
        ? `${program.name}: accepted, ${program.insnsProcessed ?? '?'} of 1,000,000 insns processed, stack ${program.stackDepth?.join('+') ?? '?'} bytes, ${program.verificationTimeUs ?? '?'} µs`
        : `${program.name}: rejected${program.errno !== undefined ? ` (errno ${program.errno})` : ''}${program.failure ? ` at ${basename(program.failure.path)}:${program.failure.line + 1}` : ''}`,
    );
  }
  return finish(programs.every((prog) => prog.accepted) ? 'accepted' : 'rejected', programs, vmlinux, objectBytes);
}
