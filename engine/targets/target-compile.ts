// Compiles a probe here for a given target: clang with the target's architecture, and vmlinux.h generated from
// the target's own BTF (fetched through its agent once per kernel, H3's vmlinux cache). Used by run and attach.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { EventTypes, HelloResult } from '../../protocol/agent-rpc';
import type { AgentClient } from './agent-client';
import { compileProbe, includeDirs, probeCodegenFlags } from '../toolchain/compile-probe';
import { eventTypesForLoad } from '../toolchain/event-struct-types';
import { findClang } from '../toolchain/find-clang';
import { includesVmlinuxHeader, provideVmlinuxHeader } from '../toolchain/vmlinux-header';
import { builtPrecompiledVmlinux, precompileVmlinuxInBackground } from '../toolchain/vmlinux-pch';

export interface TargetCompileOptions {
  includePaths?: string[];
  clangPath?: string;
  defines?: string[];
  log?: (line: string) => void;
  /** Provide vmlinux.h even when the file does not include it itself (a wrapper around a probe that does). */
  withVmlinux?: boolean;
}

export class ProbeCompileError extends Error {}

/** The object bytes for `sourcePath`, built for the agent's target; a clang failure throws with clang's messages. */
export async function compileForTarget(sourcePath: string, agent: AgentClient, target: HelloResult, options: TargetCompileOptions = {}): Promise<Buffer> {
  const log = options.log ?? (() => undefined);
  const source = resolve(sourcePath);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (err) {
    throw new ProbeCompileError(`Cannot read ${source}: ${(err as Error).message}`);
  }
  const clang = await findClang(options.clangPath ?? '');
  let vmlinuxDir: string | undefined;
  let precompiledHeader: string | undefined;
  let precompileAfter = (): void => undefined;
  if (options.withVmlinux || includesVmlinuxHeader(text)) {
    if (!target.btfPresent) {
      throw new ProbeCompileError(`${source} includes vmlinux.h, but ${agent.targetName}'s kernel ${target.kernelRelease} has no BTF to generate it from; put a vmlinux.h for that kernel on the include path.`);
    }
    const vmlinux = await provideVmlinuxHeader(includeDirs(source, target.arch, options.includePaths), {
      ...(target.btfSha256 ? { knownSha256: target.btfSha256 } : {}),
      fetchBtf: async () => Buffer.from((await agent.request('btf', {})).btf, 'base64'),
    });
    if (vmlinux.origin !== 'include-path') {
      vmlinuxDir = dirname(vmlinux.path);
      const flags = probeCodegenFlags({ machine: target.arch, ...(options.defines ? { defines: options.defines } : {}) });
      precompiledHeader = builtPrecompiledVmlinux(clang, vmlinux.path, flags, text);
      const header = vmlinux.path;
      if (!precompiledHeader) precompileAfter = () => void precompileVmlinuxInBackground(clang, header, flags, text);
    }
    log(`vmlinux.h: ${vmlinux.path} (${vmlinux.origin} for ${agent.targetName}, kernel ${target.kernelRelease})`);
  }
  const compiled = await compileProbe({
    sourcePath: source,
    clang,
    machine: target.arch,
    ...(options.includePaths ? { includePaths: options.includePaths } : {}),
    ...(options.defines ? { defines: options.defines } : {}),
    ...(vmlinuxDir ? { vmlinuxDir } : {}),
    ...(precompiledHeader ? { precompiledHeader } : {}),
  });
  log(`$ ${compiled.command.join(' ')}  (${compiled.ms} ms)`);
  // This compile parsed vmlinux.h plainly; the next ones read it precompiled.
  precompileAfter();
  if (!compiled.object) throw new ProbeCompileError(`clang could not compile ${source}:\n${compiled.stderr.trim()}`);
  return compiled.object;
}

/**
 * The load request's eventTypes for `sourcePath` on this target: the probe compiled once more with its structs anchored
 * (quietly; a failure only means records decode through the object's own BTF), and the struct each buffer receives.
 */
export function eventTypesForTarget(sourcePath: string, agent: AgentClient, target: HelloResult, options: TargetCompileOptions = {}): Promise<EventTypes | undefined> {
  const includePaths = [...(options.includePaths ?? []), dirname(resolve(sourcePath))];
  return eventTypesForLoad(sourcePath, (wrapper) => compileForTarget(wrapper, agent, target, { ...options, includePaths, log: () => undefined, withVmlinux: true }).catch(() => undefined));
}
