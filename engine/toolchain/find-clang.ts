// Finds the clang that compiles probes: the `ebpfStudio.clangPath` setting (CLI --clang), else the newest of clang,
// clang-19 … clang-14 on PATH. A missing clang is one message that says how to install it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';

export interface Clang {
  path: string;
  /** e.g. "19.1.7" */
  version: string;
}

export class ToolchainError extends Error {}

const CANDIDATES = ['clang', 'clang-19', 'clang-18', 'clang-17', 'clang-16', 'clang-15', 'clang-14'];
const found = new Map<string, Promise<Clang>>();

function onPath(name: string): string | undefined {
  if (isAbsolute(name)) return existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

async function clangVersion(path: string): Promise<string> {
  const { stdout } = await promisify(execFile)(path, ['--version'], { timeout: 10_000 });
  const version = /clang version (\d+(?:\.\d+)*)/.exec(stdout)?.[1];
  if (!version) throw new ToolchainError(`${path} does not look like clang (\`${path} --version\` said: ${stdout.split('\n')[0]}).`);
  return version;
}

/** The clang to use; `configured` is the clangPath setting or --clang ('' = search PATH). */
export function findClang(configured = ''): Promise<Clang> {
  let pending = found.get(configured);
  if (!pending) {
    pending = locate(configured);
    found.set(configured, pending);
    pending.catch(() => found.delete(configured));
  }
  return pending;
}

async function locate(configured: string): Promise<Clang> {
  if (configured) {
    const path = onPath(configured);
    if (!path) throw new ToolchainError(`clang was not found at "${configured}" (setting ebpfStudio.clangPath / --clang). Fix the path, or clear it to search PATH.`);
    return { path, version: await clangVersion(path) };
  }
  // Every candidate present, newest first: `clang` may be an older release than clang-19 (Debian 12's is 14),
  // and a newer clang emits code the verifier accepts more often, so the highest version wins (ties: `clang`).
  const present = [...new Set(CANDIDATES.map(onPath).filter((p): p is string => p !== undefined))];
  const versions = await Promise.all(present.map(async (path) => ({ path, version: await clangVersion(path).catch(() => undefined) })));
  const usable = versions.filter((c): c is Clang => c.version !== undefined);
  const major = (c: Clang) => Number(c.version.split('.')[0]);
  const newest = usable.reduce<Clang | undefined>((best, c) => (!best || major(c) > major(best) ? c : best), undefined);
  if (newest) return newest;
  throw new ToolchainError(
    `clang is needed to compile eBPF probes and none was found on PATH (looked for ${CANDIDATES.join(', ')}). ` +
      'Install it, e.g. `apt-get install clang-19` (Debian/Ubuntu) or `dnf install clang` (Fedora), or set ebpfStudio.clangPath.',
  );
}
