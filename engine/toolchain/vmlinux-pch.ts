// Precompiles a generated vmlinux.h once per (header, clang, code flags) into its cache folder, so a probe whose first
// directive includes vmlinux.h compiles without clang parsing those ~3 MB again (most of a compile). Talks to clang.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clang } from './find-clang';

const building = new Map<string, Promise<void>>();

/** Comments and blank lines, then `#include <vmlinux.h>` (or "vmlinux.h"): pre-including the header changes nothing. */
const VMLINUX_FIRST = /^(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*#[ \t]*include[ \t]*[<"]vmlinux\.h[>"]/;

export function includesVmlinuxFirst(sourceText: string): boolean {
  return VMLINUX_FIRST.test(sourceText);
}

/**
 * The precompiled form of `headerPath` (a vmlinux.h in the cache) for `clang` and `flags` (probeCodegenFlags), built
 * here the first time (~2.5× clang's parse of the header, once per kernel, clang and flags; every later compile of a probe
 * saves that parse). Undefined when the probe does not include vmlinux.h first or the build failed: compile without it.
 */
export async function precompiledVmlinux(clang: Clang, headerPath: string, flags: string[], sourceText: string): Promise<string | undefined> {
  if (!includesVmlinuxFirst(sourceText)) return undefined;
  const pch = precompiledPath(clang, headerPath, flags);
  let build = building.get(pch);
  if (!build && existsSync(pch)) return pch;
  if (!build) {
    build = buildPrecompiledHeader(clang, headerPath, flags, pch).finally(() => building.delete(pch));
    building.set(pch, build);
  }
  await build;
  return existsSync(pch) ? pch : undefined;
}

/** The precompiled header when it is already built (no wait, nothing started), else undefined: see precompiledVmlinux. */
export function builtPrecompiledVmlinux(clang: Clang, headerPath: string, flags: string[], sourceText: string): string | undefined {
  if (!includesVmlinuxFirst(sourceText)) return undefined;
  const pch = precompiledPath(clang, headerPath, flags);
  return !building.has(pch) && existsSync(pch) ? pch : undefined;
}

function precompiledPath(clang: Clang, headerPath: string, flags: string[]): string {
  const key = createHash('sha256').update(JSON.stringify([clang.path, clang.version, flags])).digest('hex').slice(0, 16);
  return join(dirname(headerPath), 'pch', `${key}.pch`);
}

/** Removes a precompiled header clang refused (e.g. built by a clang since replaced); the next compile builds it again. */
export function forgetPrecompiledHeader(pch: string): void {
  rmSync(pch, { force: true });
}

/** Written under a temporary name and renamed, so another process never reads half a file; a failure only leaves none. */
function buildPrecompiledHeader(clang: Clang, headerPath: string, flags: string[], pch: string): Promise<void> {
  mkdirSync(dirname(pch), { recursive: true });
  const partial = `${pch}.${process.pid}.tmp`;
  return new Promise((resolve) => {
    execFile(clang.path, [...flags, '-x', 'c-header', headerPath, '-o', partial], { timeout: 120_000 }, (err) => {
      try {
        if (!err) renameSync(partial, pch);
      } catch {
        // The cache folder went away meanwhile: there is simply no precompiled header.
      } finally {
        rmSync(partial, { force: true });
        resolve();
      }
    });
  });
}
