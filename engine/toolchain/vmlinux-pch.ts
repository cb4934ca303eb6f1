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
 * The precompiled form of `headerPath` (a vmlinux.h in the cache) for `clang` and `flags` (probeCodegenFlags), when the
 * probe includes it first and it is built; otherwise undefined, and on the first miss the build starts in the background
 * (the next compile uses it; a process ends only once its clang has finished).
 */
export function precompiledVmlinux(clang: Clang, headerPath: string, flags: string[], sourceText: string): string | undefined {
  if (!includesVmlinuxFirst(sourceText)) return undefined;
  const key = createHash('sha256').update(JSON.stringify([clang.path, clang.version, flags])).digest('hex').slice(0, 16);
  const pch = join(dirname(headerPath), 'pch', `${key}.pch`);
  if (building.has(pch)) return undefined;
  if (existsSync(pch)) return pch;
  const build = buildPrecompiledHeader(clang, headerPath, flags, pch).finally(() => building.delete(pch));
  building.set(pch, build);
  return undefined;
}

/** Resolves once every precompiled header this process started has been written (or has failed). */
export async function precompiledHeadersBuilt(): Promise<void> {
  await Promise.all(building.values());
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
