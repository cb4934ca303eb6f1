// `ebpf-studio check --verify [--target local|kernel:6.1|ssh://user@host[:port]|alias]... [--clang PATH] [--log-level 1|2] [--map-size …]`:
// compiles and verifies each FILE through each target's kernel and returns diagnostics (sources 'clang'/'verifier').
import type { Diagnostic } from 'vscode-languageserver-types';
import type { MapSize } from '../../protocol/agent-rpc';
import type { AgentClient } from '../../engine/targets/agent-client';
import { kernelVerdicts, mergeRunDiagnostics, type KernelVerdict, type TargetRun } from '../../engine/verify/verdict-matrix';
import { verifyProbe, type VerifyProbeResult } from '../../engine/verify/verify-probe';
import { readProbePrograms } from '../../server/src/analysis/probe-programs';
import type { ProbeProgram } from '../../protocol/lsp-requests';
import { connectCliTarget } from './target-connect';
import { MAP_SIZE_OPTION, MAP_SIZE_USAGE, parseMapSizes } from './map-size-option';
import { TARGET_OPTIONS, TARGET_USAGE, targetConnectOptions, UsageError, type OptionSpec } from './command-line';

export const VERIFY_USAGE = `  --verify              also compile each FILE with clang and load it through the target kernel's verifier,
                        on each --target given (repeat it to verify on several)
${TARGET_USAGE}
  --clang PATH          clang to compile with (default: clang, clang-19 … clang-14 on PATH)
  --log-level 1|2       verifier log level (2 logs every instruction's state)
${MAP_SIZE_USAGE}`;

/** The options `check` takes for --verify, beside its own. */
export const VERIFY_OPTIONS = {
  verify: { type: 'boolean', default: false },
  ...TARGET_OPTIONS,
  target: { type: 'string', multiple: true, default: [] },
  clang: { type: 'string' },
  'log-level': { type: 'string' },
  ...MAP_SIZE_OPTION,
} as const satisfies OptionSpec;

export interface VerifyCliOptions {
  verify: boolean;
  /** Every --target given, in order; none means local. */
  targets: string[];
  identity?: string;
  knownHosts?: string;
  clangPath?: string;
  logLevel?: 1 | 2;
  /** --map-size: map sizes set before load, as `run` sets them. */
  mapSizes: Record<string, MapSize>;
}

/** The --verify options from parsed VERIFY_OPTIONS values. */
export function verifyCliOptions(values: { verify?: boolean; target?: string[]; identity?: string; 'known-hosts'?: string; clang?: string; 'log-level'?: string; 'map-size'?: string[] }): VerifyCliOptions {
  const level = values['log-level'];
  if (level !== undefined && level !== '1' && level !== '2') throw new UsageError(`--log-level is 1 or 2, not "${level}".`);
  return {
    verify: values.verify ?? false,
    targets: values.target ?? [],
    ...targetConnectOptions(values),
    ...(values.clang ? { clangPath: values.clang } : {}),
    ...(level ? { logLevel: level === '2' ? 2 : 1 } : {}),
    mapSizes: parseMapSizes(values['map-size'] ?? []),
  };
}

/** Opens an agent for a --target; SSH targets come from the targets feature (engine/targets/ssh-transport). */
export type TargetOpener = (target: string, options: VerifyCliOptions, log: (line: string) => void) => Promise<AgentClient>;

export const openCliTarget: TargetOpener = (target, options, log) =>
  connectCliTarget(target, { ...(options.identity ? { identity: options.identity } : {}), ...(options.knownHosts ? { knownHosts: options.knownHosts } : {}), log });

export interface VerifiedFile {
  file: string;
  diagnostics: Diagnostic[];
  /** For each FILE named on the command line: its verdict on every target, in --target order. */
  verdicts?: KernelVerdict[];
}

/** How a check run hands its own parse to the verify, and learns when clang is running. */
export interface VerifyHooks {
  /** The programs of a FILE, from the static pass's parse (default: parsed here). */
  programsOf?: (file: string) => Promise<readonly ProbeProgram[]>;
  /** Called when the first compile is running (or none will), so the static pass can run beside clang and the agent's start. */
  onCompileStarted?: () => void;
}

/**
 * Verifies every file on one agent of the target, then closes it (a kernel target's VM stops). The agent starts while the
 * first file compiles: for this machine the compile needs nothing from it.
 */
async function verifyOnTarget(target: string, files: string[], options: VerifyCliOptions & { includePaths?: string[] }, log: (line: string) => void, open: TargetOpener, hooks: VerifyHooks): Promise<VerifyProbeResult[]> {
  const sameMachine = target.trim() === 'local';
  const agent = open(target, options, log);
  try {
    const results: VerifyProbeResult[] = [];
    for (const file of files) {
      results.push(
        await verifyProbe({
          sourcePath: file,
          programs: hooks.programsOf ? hooks.programsOf(file) : readProbePrograms(file),
          agent,
          sameMachine,
          ...(options.includePaths ? { includePaths: options.includePaths } : {}),
          ...(options.clangPath ? { clangPath: options.clangPath } : {}),
          ...(options.logLevel ? { logLevel: options.logLevel } : {}),
          mapSizes: options.mapSizes,
          ...(hooks.onCompileStarted ? { onCompileStarted: hooks.onCompileStarted } : {}),
          onProgress: log,
        }),
      );
    }
    return results;
  } finally {
    await agent.then((client) => client.close(), () => undefined);
  }
}

/**
 * Verifies every file on every target (targets in parallel) and returns the diagnostics per file: every file
 * named on the command line appears, and so does any header clang or the verifier blamed. With several targets,
 * each diagnostic says which kernels reject its line and which accept the probe.
 */
export async function verifyFilesForCheck(
  files: string[],
  options: VerifyCliOptions & { includePaths?: string[] },
  log: (line: string) => void = () => undefined,
  open: TargetOpener = openCliTarget,
  hooks: VerifyHooks = {},
): Promise<VerifiedFile[]> {
  const targets = options.targets.length ? [...new Set(options.targets)] : ['local'];
  const settled = await Promise.allSettled(targets.map((target) => verifyOnTarget(target, files, options, targets.length > 1 ? (line) => log(`[${target}] ${line}`) : log, open, hooks)));
  const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [`${targets[i]}: ${s.reason instanceof Error ? s.reason.message : String(s.reason)}`] : []));
  if (failed.length) throw new Error(failed.join('\n'));
  const perTarget = settled.map((s) => (s as PromiseFulfilledResult<VerifyProbeResult[]>).value);
  const byFile = new Map<string, VerifiedFile>();
  files.forEach((_, f) => {
    const runs: TargetRun[] = targets.map((target, t) => ({ target, result: perTarget[t][f] }));
    const sourcePath = runs[0].result.sourcePath;
    const entry = byFile.get(sourcePath) ?? { file: sourcePath, diagnostics: [] };
    entry.verdicts = kernelVerdicts(runs);
    byFile.set(sourcePath, entry);
    const diagnostics = runs.length > 1 ? mergeRunDiagnostics(runs) : runs[0].result.diagnostics;
    for (const [path, list] of diagnostics) {
      const other = byFile.get(path) ?? { file: path, diagnostics: [] };
      other.diagnostics.push(...list);
      byFile.set(path, other);
    }
  });
  return [...byFile.values()];
}
