// Provides vmlinux.h for a probe that includes it: from the include path if one is there, else generated from
// the target's BTF (fetched through its agent, names sanitized) with `bpftool btf dump … format c` into a cache
// keyed by the sha256 computed here: nothing the target says becomes a path.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { sanitizeBtfNames } from './btf-names';
import { ToolchainError } from './find-clang';

export type VmlinuxOrigin =
  | { origin: 'include-path'; path: string }
  /** Only the types one probe names, for its first compile on a kernel (vmlinux-probe-subset.ts); the whole header follows in the background. */
  | { origin: 'probe-subset'; path: string; sha256: string; ms: number }
  | { origin: 'cache'; path: string; sha256: string }
  | { origin: 'generated'; path: string; sha256: string; ms: number };

export interface VmlinuxSource {
  /**
   * The target's BTF sha256 when known cheaply (the agent's hello), so a cached header needs no fetch. Used only
   * when it is 64 hex digits; a target that lies about it gets another kernel's header, and no cache entry changes.
   */
  knownSha256?: string;
  /** Fetches the target's /sys/kernel/btf/vmlinux (the agent's `btf` method). */
  fetchBtf(): Promise<Buffer>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const INCLUDES_VMLINUX = /^\s*#\s*include\s*[<"]vmlinux\.h[>"]/m;
const generating = new Map<string, Promise<string>>();

export function includesVmlinuxHeader(sourceText: string): boolean {
  return INCLUDES_VMLINUX.test(sourceText);
}

/** ~/.cache/ebpf-studio/vmlinux (or $XDG_CACHE_HOME/ebpf-studio/vmlinux). */
export function defaultVmlinuxCacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebpf-studio', 'vmlinux');
}

function findBpftool(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  const found = dirs.map((d) => join(d, 'bpftool')).find((p) => existsSync(p));
  if (!found) throw new ToolchainError('vmlinux.h is generated with bpftool, which is not installed here: `apt-get install bpftool` (Debian/Ubuntu) or `dnf install bpftool` (Fedora).');
  return found;
}

/**
 * The folder to put on the include path for vmlinux.h, and where the header came from. `searchDirs` are the
 * include paths the compile already uses (a vmlinux.h there wins). `onGenerating` is called once bpftool runs.
 */
export async function provideVmlinuxHeader(searchDirs: string[], source: VmlinuxSource, cacheRoot = defaultVmlinuxCacheRoot(), onGenerating?: () => void): Promise<VmlinuxOrigin> {
  const found = findVmlinuxHeader(searchDirs, source.knownSha256, cacheRoot);
  if (found) return found;
  const cachedPath = (sha: string) => join(cacheRoot, sha, 'vmlinux.h');
  const btf = await source.fetchBtf();
  const sha256 = createHash('sha256').update(btf).digest('hex');
  const path = cachedPath(sha256);
  if (existsSync(path) && !generating.has(sha256)) return { origin: 'cache', path, sha256 };
  let pending = generating.get(sha256);
  const started = performance.now();
  const wasGenerating = pending !== undefined;
  if (!pending) {
    pending = generateOnce(btf, sha256, join(cacheRoot, sha256), onGenerating);
    generating.set(sha256, pending);
    pending.then(
      () => generating.delete(sha256),
      () => generating.delete(sha256),
    );
  }
  const outcome = await pending;
  return wasGenerating || outcome === 'cache' ? { origin: 'cache', path, sha256 } : { origin: 'generated', path, sha256, ms: Math.round(performance.now() - started) };
}

/** vmlinux.h from the include path, or the cached one of the BTF whose sha256 is `knownSha256`; undefined when neither is there. */
export function findVmlinuxHeader(searchDirs: string[], knownSha256: string | undefined, cacheRoot = defaultVmlinuxCacheRoot()): VmlinuxOrigin | undefined {
  const existing = searchDirs.map((d) => join(d, 'vmlinux.h')).find((p) => existsSync(p));
  if (existing) return { origin: 'include-path', path: existing };
  const cached = knownSha256 && SHA256_HEX.test(knownSha256) ? join(cacheRoot, knownSha256, 'vmlinux.h') : undefined;
  return cached && existsSync(cached) && !generating.has(knownSha256 as string) ? { origin: 'cache', path: cached, sha256: knownSha256 as string } : undefined;
}

/**
 * Starts generating the whole vmlinux.h into the cache from `sanitizedBtf` (names already sanitized: sanitizeBtfNames) of the
 * BTF whose sha256 (as the target gave it) is `sha256`, in a detached `nice -n 19` bpftool that outlives this process, writing a
 * temporary file renamed into place, under the lock a generation in the foreground takes (which then waits for the header).
 * Nothing starts when the header is cached or another process generates it. `then` gives a command the same process runs
 * once the header is in place (precompiling it: vmlinux-pch.ts), with the lock it took, which it releases if the header failed.
 */
export function generateVmlinuxInBackground(
  sanitizedBtf: Buffer,
  sha256: string,
  cacheRoot = defaultVmlinuxCacheRoot(),
  then?: (headerPath: string) => { argv: string[]; env: { PCH_LOCK: string } & Record<string, string> } | undefined,
): void {
  if (!SHA256_HEX.test(sha256)) return;
  const dir = join(cacheRoot, sha256);
  const header = join(dir, 'vmlinux.h');
  const lock = join(dir, 'generating.lock');
  if (existsSync(header) || generating.has(sha256)) return;
  let bpftool: string;
  try {
    bpftool = findBpftool();
    mkdirSync(dir, { recursive: true });
    closeSync(openSync(lock, 'wx'));
  } catch {
    return;
  }
  const btfPath = join(dir, `vmlinux.btf.${process.pid}`);
  const partial = join(dir, `vmlinux.h.${process.pid}.tmp`);
  try {
    writeFileSync(btfPath, sanitizedBtf);
  } catch {
    rmSync(lock, { force: true });
    return;
  }
  const next = then?.(header);
  const child = spawn('/bin/sh', ['-c', BACKGROUND_SCRIPT, 'sh', ...(next?.argv ?? [])], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...next?.env, BPFTOOL: bpftool, VMLINUX_PARTIAL: partial, VMLINUX_HEADER: header, VMLINUX_BTF: btfPath, VMLINUX_LOCK: lock },
  });
  child.on('error', () => {
    rmSync(lock, { force: true });
    if (next) rmSync(next.env.PCH_LOCK, { force: true });
  });
  child.unref();
}

/**
 * This machine's vmlinux.h, from its own /sys/kernel/btf/vmlinux (readable without root), in the same cache the
 * agent's BTF fills: what the editor's C features see before any agent runs.
 */
export function provideLocalVmlinuxHeader(searchDirs: string[], cacheRoot = defaultVmlinuxCacheRoot()): Promise<VmlinuxOrigin> {
  return provideVmlinuxHeader(searchDirs, { fetchBtf: () => readFile('/sys/kernel/btf/vmlinux') }, cacheRoot);
}

const LOCK_STALE_MS = 180_000;

/** The background generation: the header under a temporary name, renamed into place, the lock dropped; then its arguments, if any, run. */
const BACKGROUND_SCRIPT = [
  'nice -n 19 "$BPFTOOL" btf dump file "$VMLINUX_BTF" format c > "$VMLINUX_PARTIAL" && mv -f -- "$VMLINUX_PARTIAL" "$VMLINUX_HEADER"',
  'rm -f -- "$VMLINUX_PARTIAL" "$VMLINUX_BTF" "$VMLINUX_LOCK"',
  'if [ $# -gt 0 ]; then if [ -f "$VMLINUX_HEADER" ]; then exec "$@"; else rm -f -- "$PCH_LOCK"; fi; fi',
].join('; ');

/** Resolves when something in `dir` changes, or after `ms`. */
function dirChanged(dir: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, () => done());
    const timer = setTimeout(() => done(), ms);
    const done = () => {
      clearTimeout(timer);
      watcher.close();
      resolve();
    };
  });
}

/**
 * Generates the header unless another process (the CLI next to the editor) is already doing it: a lock file
 * created with O_EXCL says who generates; the others wait for the header to appear. A lock older than three
 * minutes is a crashed generator's and is taken over.
 */
async function generateOnce(btf: Buffer, sha256: string, dir: string, onGenerating?: () => void): Promise<'generated' | 'cache'> {
  mkdirSync(dir, { recursive: true });
  const header = join(dir, 'vmlinux.h');
  const lock = join(dir, 'generating.lock');
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    if (existsSync(header)) return 'cache';
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age > LOCK_STALE_MS || Date.now() > deadline) rmSync(lock, { force: true });
      else await dirChanged(dir, 1000);
    }
  }
  try {
    if (existsSync(header)) return 'cache';
    await generate(btf, sha256, dir, onGenerating);
    return 'generated';
  } finally {
    rmSync(lock, { force: true });
  }
}

async function generate(btf: Buffer, sha256: string, dir: string, onGenerating?: () => void): Promise<string> {
  const bpftool = findBpftool();
  const btfPath = join(dir, `vmlinux.btf.${process.pid}`);
  const tmpHeader = join(dir, `vmlinux.h.${process.pid}.tmp`);
  try {
    writeFileSync(btfPath, sanitizeBtfNames(btf).btf);
    const dumping = dumpBtfAsHeader(btfPath, tmpHeader, bpftool);
    onGenerating?.();
    await dumping;
    renameSync(tmpHeader, join(dir, 'vmlinux.h'));
  } catch (err) {
    throw new ToolchainError(`Generating vmlinux.h from the target's BTF (sha256 ${sha256.slice(0, 12)}…) failed: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    rmSync(btfPath, { force: true });
    rmSync(tmpHeader, { force: true });
  }
  return join(dir, 'vmlinux.h');
}

/** `bpftool btf dump file BTF format c` straight into `headerPath` (its ~3 MB never pass through this process). */
export function dumpBtfAsHeader(btfPath: string, headerPath: string, bpftool = findBpftool()): Promise<void> {
  const out = openSync(headerPath, 'w');
  return new Promise<void>((resolve, reject) => {
    const child = spawn(bpftool, ['btf', 'dump', 'file', btfPath, 'format', 'c'], { stdio: ['ignore', out, 'pipe'], timeout: 120_000 });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(stderr.trim() || `bpftool exited with ${signal ?? `code ${code}`}`))));
  }).finally(() => closeSync(out));
}
