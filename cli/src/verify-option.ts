// `ebpf-studio check --verify [--target local|ssh://user@host[:port]|alias] [--clang PATH] [--log-level 1|2]`:
// compiles and verifies each FILE through the target's kernel and returns diagnostics (sources 'clang'/'verifier').
import type { Diagnostic } from 'vscode-languageserver-types';
import type { AgentClient } from '../../engine/targets/agent-client';
import { verifyProbe, type VerifyProbeResult } from '../../engine/verify/verify-probe';
import { connectCliTarget } from './target-connect';

export const VERIFY_USAGE = `  --verify              also compile each FILE with clang and load it through the target kernel's verifier
  --target T            where to verify: local (default), ssh://user@host[:port], user@host or an ~/.ssh/config alias
  --identity KEY        SSH key file for --target (tried first)
  --known-hosts FILE    known_hosts for --target (default ~/.ssh/known_hosts)
  --clang PATH          clang to compile with (default: clang, clang-19 … clang-14 on PATH)
  --log-level 1|2       verifier log level (2 logs every instruction's state)`;

export interface VerifyCliOptions {
  verify: boolean;
  target: string;
  identity?: string;
  knownHosts?: string;
  clangPath?: string;
  logLevel?: 1 | 2;
}

export class VerifyUsageError extends Error {}

export function defaultVerifyOptions(): VerifyCliOptions {
  return { verify: false, target: 'local' };
}

/**
 * Consumes a --verify flag at args[i] (and its value) into `options`; returns how many arguments it used,
 * 0 when args[i] is not one of them. `check` calls it before its own flags.
 */
export function takeVerifyFlag(args: string[], i: number, options: VerifyCliOptions): number {
  const [flag, inline] = args[i].startsWith('--') && args[i].includes('=') ? args[i].split(/=(.*)/s, 2) : [args[i], undefined];
  const value = (): string => {
    const v = inline ?? args[i + 1];
    if (v === undefined || v === '') throw new VerifyUsageError(`${flag} needs a value.`);
    return v;
  };
  const used = inline === undefined ? 2 : 1;
  switch (flag) {
    case '--verify':
      options.verify = true;
      return 1;
    case '--target':
      options.target = value();
      return used;
    case '--identity':
      options.identity = value();
      return used;
    case '--known-hosts':
      options.knownHosts = value();
      return used;
    case '--clang':
      options.clangPath = value();
      return used;
    case '--log-level': {
      const level = value();
      if (level !== '1' && level !== '2') throw new VerifyUsageError(`--log-level is 1 or 2, not "${level}".`);
      options.logLevel = level === '2' ? 2 : 1;
      return used;
    }
    default:
      return 0;
  }
}

/** Opens an agent for a --target; SSH targets come from the targets feature (engine/targets/ssh-transport). */
export type TargetOpener = (target: string, options: VerifyCliOptions, log: (line: string) => void) => Promise<AgentClient>;

export const openCliTarget: TargetOpener = (target, options, log) =>
  connectCliTarget(target, { ...(options.identity ? { identity: options.identity } : {}), ...(options.knownHosts ? { knownHosts: options.knownHosts } : {}), log });

export interface VerifiedFile {
  file: string;
  diagnostics: Diagnostic[];
  result?: VerifyProbeResult;
}

/**
 * Verifies every file on one agent of the target and returns the diagnostics per file (every file named on
 * the command line appears, and so does any header clang or the verifier blamed).
 */
export async function verifyFilesForCheck(
  files: string[],
  options: VerifyCliOptions & { includePaths?: string[] },
  log: (line: string) => void = () => undefined,
  open: TargetOpener = openCliTarget,
): Promise<VerifiedFile[]> {
  const agent = await open(options.target, options, log);
  const byFile = new Map<string, VerifiedFile>();
  try {
    for (const file of files) {
      const result = await verifyProbe({
        sourcePath: file,
        agent,
        ...(options.includePaths ? { includePaths: options.includePaths } : {}),
        ...(options.clangPath ? { clangPath: options.clangPath } : {}),
        ...(options.logLevel ? { logLevel: options.logLevel } : {}),
        onProgress: log,
      });
      if (!byFile.has(result.sourcePath)) byFile.set(result.sourcePath, { file: result.sourcePath, diagnostics: [], result });
      for (const [path, diagnostics] of result.diagnostics) {
        const entry = byFile.get(path) ?? { file: path, diagnostics: [] };
        entry.diagnostics.push(...diagnostics);
        byFile.set(path, entry);
      }
    }
  } finally {
    await agent.close();
  }
  return [...byFile.values()];
}
