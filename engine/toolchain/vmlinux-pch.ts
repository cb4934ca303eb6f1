// Precompiles a generated vmlinux.h once per (header, clang, code flags) into its cache folder, off the critical path: a
// detached, lowest-priority clang started after a plain compile, so later compiles skip parsing those ~3 MB. Talks to clang.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clang } from './find-clang';

/** Comments and blank lines, then `#include <vmlinux.h>` (or "vmlinux.h"): pre-including the header changes nothing. */
const VMLINUX_FIRST = /^(?:\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*#[ \t]*include[ \t]*[<"]vmlinux\.h[>"]/;

/** A build lock older than this is a dead builder's (a build takes seconds) and is taken over. */
const LOCK_STALE_MS = 180_000;

/**
 * Builds into a temporary name and renames it (atomic in one folder), then removes the lock; on failure it removes both.
 * `nice -n 19`: the build yields the CPU to anything else (the compile and verify of this run, the next CI step).
 */
const BUILD_SCRIPT = 'nice -n 19 "$@" && mv -f -- "$PCH_PARTIAL" "$PCH_PATH"; rm -f -- "$PCH_PARTIAL" "$PCH_LOCK"';

export function includesVmlinuxFirst(sourceText: string): boolean {
  return VMLINUX_FIRST.test(sourceText);
}

/** The precompiled header when it is already built (nothing waited for, nothing started), else undefined. */
export function builtPrecompiledVmlinux(clang: Clang, headerPath: string, flags: string[], sourceText: string): string | undefined {
  if (!includesVmlinuxFirst(sourceText)) return undefined;
  const pch = precompiledPath(clang, headerPath, flags);
  return existsSync(pch) ? pch : undefined;
}

/** Where a precompiled header's build lock is while a builder runs (holds the pid of the process that started it). */
export function precompileLockPath(pch: string): string {
  return `${pch}.building`;
}

/**
 * Starts building the precompiled form of `headerPath` (a vmlinux.h in the cache) for `clang` and `flags` (probeCodegenFlags)
 * in a detached process that outlives this one: the compile that asked went on plainly, the next one reads it. Nothing is
 * started when the probe does not include vmlinux.h first, the header is built, or another process is building it (its lock).
 * Resolves with the header's path once built, or undefined (not built, failed, or another builder's). The build does not keep
 * this process alive (a CLI exits without waiting for it) unless `holdProcess` (a caller that awaits it).
 */
export function precompileVmlinuxInBackground(clang: Clang, headerPath: string, flags: string[], sourceText: string, holdProcess = false): Promise<string | undefined> {
  if (!includesVmlinuxFirst(sourceText)) return Promise.resolve(undefined);
  const pch = precompiledPath(clang, headerPath, flags);
  if (existsSync(pch)) return Promise.resolve(pch);
  const command = precompileCommand(clang, headerPath, flags, sourceText);
  if (!command) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const child = spawn(command.argv[0], command.argv.slice(1), { detached: true, stdio: 'ignore', env: { ...process.env, ...command.env } });
    child.on('error', () => {
      rmSync(command.env.PCH_LOCK, { force: true });
      resolve(undefined);
    });
    child.on('exit', () => resolve(existsSync(pch) ? pch : undefined));
    if (!holdProcess) child.unref();
  });
}

/**
 * The command (and its environment) that builds the precompiled form of `headerPath`, with its lock taken here for it (the
 * command removes it), for a detached process to run once the header exists; undefined when there is nothing to build (the
 * probe does not include vmlinux.h first, it is built, or another process holds the lock).
 */
export function precompileCommand(clang: Clang, headerPath: string, flags: string[], sourceText: string): { argv: string[]; env: Record<'PCH_PARTIAL' | 'PCH_PATH' | 'PCH_LOCK', string> } | undefined {
  if (!includesVmlinuxFirst(sourceText)) return undefined;
  const pch = precompiledPath(clang, headerPath, flags);
  if (existsSync(pch)) return undefined;
  const lock = precompileLockPath(pch);
  const lockFd = takeLock(lock);
  if (lockFd === undefined) return undefined;
  writeSync(lockFd, `${process.pid}\n`);
  closeSync(lockFd);
  const partial = `${pch}.${process.pid}.tmp`;
  return { argv: ['/bin/sh', '-c', BUILD_SCRIPT, 'sh', clang.path, ...flags, '-x', 'c-header', headerPath, '-o', partial], env: { PCH_PARTIAL: partial, PCH_PATH: pch, PCH_LOCK: lock } };
}

/** The lock file, created exclusively (a stale one is taken over), or undefined when another process holds it. */
function takeLock(lock: string): number | undefined {
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return openSync(lock, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
      try {
        if (Date.now() - statSync(lock).mtimeMs <= LOCK_STALE_MS) return undefined;
      } catch {
        continue;
      }
      rmSync(lock, { force: true });
    }
  }
  return undefined;
}

function precompiledPath(clang: Clang, headerPath: string, flags: string[]): string {
  const key = createHash('sha256').update(JSON.stringify([clang.path, clang.version, flags])).digest('hex').slice(0, 16);
  return join(dirname(headerPath), 'pch', `${key}.pch`);
}

/** Removes a precompiled header clang refused (e.g. built by a clang since replaced); the next compile builds it again. */
export function forgetPrecompiledHeader(pch: string): void {
  rmSync(pch, { force: true });
}
