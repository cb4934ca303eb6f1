// Uploads the agent (agent.js + koffi's loader and prebuilt binary for the host's CPU) over SFTP into a
// versioned cache folder on the host, named by the files' hash, so each version is uploaded once and checked by hash.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { AGENT_VERSION } from '../../protocol/agent-rpc';
import { execCommand, shellQuote } from './host-prerequisites';

/** uname -m → koffi's prebuilt folder. */
const KOFFI_TRIPLETS: Record<string, string> = {
  x86_64: 'linux_x64',
  aarch64: 'linux_arm64',
  arm64: 'linux_arm64',
};

/** Where agents are cached on a host, unless told otherwise ($HOME expands on the host). */
export const DEFAULT_REMOTE_CACHE = '$HOME/.cache/ebpf-studio/agent';

export interface AgentFile {
  /** Path inside the version folder. */
  remote: string;
  local: string;
  bytes: Buffer;
}

export interface AgentPackage {
  machine: string;
  /** `<agent version>-<first 16 hex of the sha256 of every file>`. */
  dir: string;
  files: AgentFile[];
}

/** The koffi package the agent bundle will load (next to dist/agent.js, or the project's node_modules). */
function koffiRoot(agentBundle: string): string {
  return dirname(createRequire(agentBundle).resolve('koffi/package.json'));
}

const packages = new Map<string, AgentPackage>();

/** The files for one CPU and their version folder name; undefined when koffi has no binary for it here. */
export function agentPackage(agentBundle: string, machine: string): AgentPackage | undefined {
  const key = `${agentBundle}\0${machine}`;
  const cached = packages.get(key);
  if (cached) return cached;
  const triplet = KOFFI_TRIPLETS[machine];
  if (!triplet) return undefined;
  const koffi = koffiRoot(agentBundle);
  const binary = join(koffi, 'build', 'koffi', triplet, 'koffi.node');
  if (!existsSync(binary)) return undefined;
  const entries: [string, string][] = [
    ['agent.js', agentBundle],
    ['node_modules/koffi/package.json', join(koffi, 'package.json')],
    ['node_modules/koffi/index.js', join(koffi, 'index.js')],
    [`node_modules/koffi/build/koffi/${triplet}/koffi.node`, binary],
  ];
  const files = entries.map(([remote, local]) => ({ remote, local, bytes: readFileSync(local) }));
  const hash = createHash('sha256');
  for (const f of files) hash.update(f.remote).update('\0').update(f.bytes);
  const pkg = { machine, dir: `${AGENT_VERSION}-${hash.digest('hex').slice(0, 16)}`, files };
  packages.set(key, pkg);
  return pkg;
}

/** Machines whose agent package can be built here (koffi binary present). */
export function supportedMachines(agentBundle: string): string[] {
  return Object.keys(KOFFI_TRIPLETS).filter((m) => agentPackage(agentBundle, m) !== undefined);
}

function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(new Error(`The host refused SFTP (is the sftp subsystem enabled in sshd_config?): ${err.message}`)) : resolve(sftp))));
}

function writeFile(sftp: SFTPWrapper, path: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => sftp.writeFile(path, data, { mode: 0o644 }, (err) => (err ? reject(new Error(`SFTP upload of ${path} failed: ${err.message}`)) : resolve())));
}

/**
 * Uploads into `<root>/<dir>` (root absolute) through a temporary folder renamed at the end, so a
 * half-finished upload is never taken for a complete one; the `.complete` file holds the hash.
 */
export async function uploadAgent(client: Client, root: string, pkg: AgentPackage, log: (line: string) => void): Promise<void> {
  const tmp = `${root}/.upload-${pkg.dir}-${process.pid}-${Date.now()}`;
  const folders = [...new Set(pkg.files.map((f) => dirname(f.remote)).filter((d) => d !== '.'))].sort();
  const mk = await execCommand(client, `mkdir -p ${folders.map((d) => shellQuote(`${tmp}/${d}`)).join(' ')}`);
  if (mk.code !== 0) throw new Error(`Cannot create ${tmp} on the host: ${mk.stderr.trim()}`);
  const sftp = await openSftp(client);
  try {
    const total = pkg.files.reduce((n, f) => n + f.bytes.length, 0);
    log(`uploading agent ${pkg.dir} (${(total / 1024).toFixed(0)} KiB, ${pkg.files.length} files) to ${root}`);
    await Promise.all(pkg.files.map((f) => writeFile(sftp, `${tmp}/${f.remote}`, f.bytes)));
    await writeFile(sftp, `${tmp}/.complete`, Buffer.from(`${pkg.dir}\n`));
  } finally {
    sftp.end();
  }
  const final = `${root}/${pkg.dir}`;
  const mv = await execCommand(client, `if [ -f ${shellQuote(`${final}/.complete`)} ]; then rm -rf ${shellQuote(tmp)}; else rm -rf ${shellQuote(final)} && mv ${shellQuote(tmp)} ${shellQuote(final)}; fi`);
  if (mv.code !== 0) throw new Error(`Cannot move the uploaded agent into ${final}: ${mv.stderr.trim()}`);
}
