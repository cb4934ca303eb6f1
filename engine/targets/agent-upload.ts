// The agent's files for a host's CPU (agent.js + koffi's loader and prebuilt binary), named by their hash, and their upload
// into a private staging folder on the host: over SFTP, or streamed over exec channels when SFTP is refused.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { AGENT_VERSION } from '../../protocol/agent-rpc';
import { execCommand } from './host-prerequisites';
import { shellQuote } from './shell-quote';

/** uname -m → koffi's prebuilt folder. */
const KOFFI_TRIPLETS: Record<string, string> = {
  x86_64: 'linux_x64',
  aarch64: 'linux_arm64',
  arm64: 'linux_arm64',
};

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

/** A file to put into the staging folder, under a path relative to it. */
export interface StagedFile {
  remote: string;
  bytes: Buffer;
}

function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

function sftpWrite(sftp: SFTPWrapper, path: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => sftp.writeFile(path, data, { mode: 0o600 }, (err) => (err ? reject(new Error(`SFTP upload of ${path} failed: ${err.message}`)) : resolve())));
}

/** Streams one file into `cat` on the host over an exec channel (with backpressure), then checks its size there. */
function execWrite(client: Client, path: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    client.exec(`umask 077 && cat > ${shellQuote(path)} && wc -c < ${shellQuote(path)}`, (err, channel) => {
      if (err) return reject(new Error(`Cannot upload ${path} over an exec channel: ${err.message}`));
      let out = '';
      let errText = '';
      channel.on('data', (d: Buffer) => (out += d.toString('utf8')));
      channel.stderr.on('data', (d: Buffer) => (errText += d.toString('utf8')));
      channel.on('close', () => {
        const size = Number(out.trim());
        if (size === data.length) resolve();
        else reject(new Error(`Upload of ${path} over the exec channel ended with ${Number.isFinite(size) ? size : 'no'} bytes of ${data.length}${errText ? `: ${errText.trim()}` : ''}`));
      });
      const chunk = 256 * 1024;
      let offset = 0;
      const pump = () => {
        while (offset < data.length) {
          const part = data.subarray(offset, offset + chunk);
          offset += part.length;
          if (!channel.write(part)) return void channel.once('drain', pump);
        }
        channel.end();
      };
      pump();
    });
  });
}

/**
 * Uploads files into a fresh private folder under ~/.cache/ebpf-studio/upload on the host (made by mktemp): over SFTP,
 * or over exec channels when the host refuses SFTP. Returns the folder; the root-run install checks every byte of it.
 */
export async function stageFiles(client: Client, files: StagedFile[], log: (line: string) => void): Promise<string> {
  const made = await execCommand(client, 'umask 077 && mkdir -p "$HOME/.cache/ebpf-studio/upload" && mktemp -d "$HOME/.cache/ebpf-studio/upload/XXXXXXXX"');
  const staging = made.stdout.trim();
  if (made.code !== 0 || !staging.startsWith('/')) throw new Error(`Cannot create an upload folder on the host: ${made.stderr.trim() || made.stdout.trim()}`);
  try {
    const folders = [...new Set(files.map((f) => dirname(f.remote)).filter((d) => d !== '.'))].sort();
    if (folders.length) {
      const mk = await execCommand(client, `mkdir -p ${folders.map((d) => shellQuote(`${staging}/${d}`)).join(' ')}`);
      if (mk.code !== 0) throw new Error(`Cannot create folders in ${staging}: ${mk.stderr.trim()}`);
    }
    const total = files.reduce((n, f) => n + f.bytes.length, 0);
    let sftp: SFTPWrapper | undefined;
    try {
      sftp = await openSftp(client);
    } catch (err) {
      log(`the host refused SFTP (${(err as Error).message}); uploading over the SSH exec channel`);
    }
    log(`uploading ${files.length} files (${(total / 1024).toFixed(0)} KiB) over ${sftp ? 'SFTP' : 'exec'} to ${staging}`);
    try {
      for (const f of files) {
        if (sftp) await sftpWrite(sftp, `${staging}/${f.remote}`, f.bytes);
        else await execWrite(client, `${staging}/${f.remote}`, f.bytes);
      }
    } finally {
      sftp?.end();
    }
    return staging;
  } catch (err) {
    await removeStaging(client, staging);
    throw err;
  }
}

/** Removes a staging folder (after a failed upload or install). */
export async function removeStaging(client: Client, staging: string): Promise<void> {
  await execCommand(client, `rm -rf ${shellQuote(staging)}`).catch(() => undefined);
}
