// Finds the clang that compiles probes (`ebpfStudio.clangPath`, CLI --clang) and the clangd that serves the editor
// (`ebpfStudio.clangdPath`): the setting, else the newest of tool, tool-19 … tool-14 on PATH. Missing: one message.
// Each binary's `--version` is remembered in ~/.cache/ebpf-studio by its real path, size and mtime (a CLI run starts no clang to ask).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';

export interface Clang {
  path: string;
  /** e.g. "19.1.7" */
  version: string;
}

export class ToolchainError extends Error {}

type LlvmTool = 'clang' | 'clangd';

const VERSIONS = ['', '-19', '-18', '-17', '-16', '-15', '-14'];
const candidates = (tool: LlvmTool) => VERSIONS.map((suffix) => `${tool}${suffix}`);
const found = new Map<string, Promise<Clang>>();

function onPath(name: string): string | undefined {
  if (isAbsolute(name)) return existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

async function askVersion(tool: LlvmTool, path: string): Promise<string> {
  const { stdout } = await promisify(execFile)(path, ['--version'], { timeout: 10_000 });
  const version = new RegExp(`${tool} version (\\d+(?:\\.\\d+)*)`).exec(stdout)?.[1];
  if (!version) throw new ToolchainError(`${path} does not look like ${tool} (\`${path} --version\` said: ${stdout.split('\n')[0]}).`);
  return version;
}

/** ~/.cache/ebpf-studio/toolchain-versions.json (or under $XDG_CACHE_HOME): "<tool> <real path>" → the binary's identity and version. */
function versionCachePath(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebpf-studio', 'toolchain-versions.json');
}

type VersionCache = Record<string, { size: number; mtimeMs: number; version: string }>;

function readVersionCache(): VersionCache {
  try {
    const parsed: unknown = JSON.parse(readFileSync(versionCachePath(), 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as VersionCache) : {};
  } catch {
    return {};
  }
}

/** The tool's version: remembered while the binary (its real path, size and mtime) is the same, else asked with --version. */
async function toolVersion(tool: LlvmTool, path: string): Promise<string> {
  let real: string;
  let size: number;
  let mtimeMs: number;
  try {
    real = realpathSync(path);
    ({ size, mtimeMs } = statSync(real));
  } catch {
    return askVersion(tool, path);
  }
  const key = `${tool} ${real}`;
  const known = readVersionCache()[key];
  if (known && known.size === size && known.mtimeMs === mtimeMs && typeof known.version === 'string') return known.version;
  const version = await askVersion(tool, path);
  try {
    const file = versionCachePath();
    mkdirSync(dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify({ ...readVersionCache(), [key]: { size, mtimeMs, version } }));
    renameSync(partial, file);
  } catch {
    // An unwritable cache only means asking again next time.
  }
  return version;
}

function find(tool: LlvmTool, configured: string): Promise<Clang> {
  const key = `${tool}:${configured}`;
  let pending = found.get(key);
  if (!pending) {
    pending = locate(tool, configured);
    found.set(key, pending);
    pending.catch(() => found.delete(key));
  }
  return pending;
}

/** The clang to use; `configured` is the clangPath setting or --clang ('' = search PATH). */
export function findClang(configured = ''): Promise<Clang> {
  return find('clang', configured);
}

/** The clangd to serve probes with; `configured` is the clangdPath setting ('' = search PATH). */
export function findClangd(configured = ''): Promise<Clang> {
  return find('clangd', configured);
}

const SETTING: Record<LlvmTool, string> = { clang: 'ebpfStudio.clangPath / --clang', clangd: 'ebpfStudio.clangdPath' };
const WHY: Record<LlvmTool, string> = {
  clang: 'clang is needed to compile eBPF probes',
  clangd: 'clangd gives probes completion of locals and struct members, go to definition, references and rename',
};

async function locate(tool: LlvmTool, configured: string): Promise<Clang> {
  if (configured) {
    const path = onPath(configured);
    if (!path) throw new ToolchainError(`${tool} was not found at "${configured}" (setting ${SETTING[tool]}). Fix the path, or clear it to search PATH.`);
    return { path, version: await toolVersion(tool, path) };
  }
  // Every candidate present, newest first: `clang` may be an older release than clang-19 (Debian 12's is 14),
  // and a newer clang emits code the verifier accepts more often, so the highest version wins (ties: `clang`).
  // `clang` is often a link to one of the numbered ones: each binary is asked once.
  const seen = new Set<string>();
  const present = candidates(tool)
    .map(onPath)
    .filter((p): p is string => p !== undefined && !seen.has(realpathSync(p)) && seen.add(realpathSync(p)) !== undefined);
  const versions = await Promise.all(present.map(async (path) => ({ path, version: await toolVersion(tool, path).catch(() => undefined) })));
  const usable = versions.filter((c): c is Clang => c.version !== undefined);
  const major = (c: Clang) => Number(c.version.split('.')[0]);
  const newest = usable.reduce<Clang | undefined>((best, c) => (!best || major(c) > major(best) ? c : best), undefined);
  if (newest) return newest;
  throw new ToolchainError(
    `${WHY[tool]}, and none was found on PATH (looked for ${candidates(tool).join(', ')}). ` +
      `Install it, e.g. \`apt-get install ${tool}-19\` (Debian/Ubuntu) or \`dnf install ${tool === 'clang' ? 'clang' : 'clang-tools-extra'}\` (Fedora), or set ${SETTING[tool].split(' ')[0]}.`,
  );
}
