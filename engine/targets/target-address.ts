// Resolves what the user typed as a target ("local", kernel:6.1, ssh://user@host:port, user@host, a settings name or
// an ~/.ssh/config alias) into a kernel to boot or a concrete SSH host, resolved as `ssh -G` does (ssh-config-resolve).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { configuredAliases, expandTokens, proxyCommandTokens, resolveSshConfig } from './ssh-config-resolve';

/** One entry of the `ebpfStudio.targets` setting. */
export interface SshTargetSetting {
  name: string;
  host: string;
  user?: string;
  port?: number;
  identityFile?: string;
}

export interface SshHost {
  /** What the user calls it (setting name, alias, or user@host:port). */
  name: string;
  host: string;
  port: number;
  user: string;
  /** Key files to try, in order (IdentityFile, --identity, or the default ~/.ssh/id_* that exist). */
  identityFiles: string[];
  /** Hosts to tunnel through, first hop first (ProxyJump, including the first hop's own ProxyJump). */
  jumps: SshHost[];
  /** ProxyCommand (tokens expanded): its stdin/stdout carry the connection. */
  proxyCommand?: string;
  /** Directives ~/.ssh/config set for this host that eBPF Studio does not use, named so the log says so. */
  notUsed?: string[];
}

export type TargetSpec =
  | { kind: 'local'; name: 'local' }
  | { kind: 'ssh'; name: string; host: SshHost }
  /** A kernel booted in a throw-away VM: `kernel` is a version (6.1) or an image path (engine/kernels/kernel-images.ts). */
  | { kind: 'kernel'; name: string; kernel: string };

/** Targets named `kernel:<version or image path>` are kernels booted in a VM. */
export const KERNEL_TARGET_PREFIX = 'kernel:';

export interface ResolveOptions {
  settings?: SshTargetSetting[];
  /** Path of the ssh config to read; ~/.ssh/config by default. */
  sshConfigPath?: string;
  /** --identity: a key file tried before any other. */
  identity?: string;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function expandHome(path: string): string {
  return path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

interface Partial {
  host: string;
  user?: string;
  port?: number;
  identityFiles?: string[];
}

/** Parses ssh://user@host:port, user@host:port, user@host, host, [v6]:port. */
export function parseHostString(text: string): Partial {
  const rest = text.startsWith('ssh://') ? text.slice(6).replace(/\/$/, '') : text;
  const at = rest.lastIndexOf('@');
  const user = at >= 0 ? decodeURIComponent(rest.slice(0, at)) : undefined;
  const hostPort = at >= 0 ? rest.slice(at + 1) : rest;
  let host = hostPort;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  const plain = /^([^:]+):(\d+)$/.exec(hostPort);
  if (v6) {
    host = v6[1];
    port = v6[2] ? Number(v6[2]) : undefined;
  } else if (plain) {
    host = plain[1];
    port = Number(plain[2]);
  }
  if (host === '' || /\s/.test(host)) throw new Error(`"${text}" is not a host: expected user@host[:port] or ssh://user@host[:port]`);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new Error(`"${text}": port must be between 1 and 65535`);
  }
  return { host, user, port };
}

/** Directives that shape the connection and that eBPF Studio applies; any other one set for a host is named in the log. */
const USED = new Set(['hostname', 'user', 'port', 'identityfile', 'proxyjump', 'proxycommand']);

function buildHost(name: string, given: Partial, configPath: string | undefined, identity: string | undefined, depth: number): SshHost {
  if (depth > 5) throw new Error(`ProxyJump chain for ${name} is longer than 5 hops (a loop in ~/.ssh/config?)`);
  const resolved = resolveSshConfig(given.host, configPath, { user: given.user, port: given.port }).options;
  const first = (key: string) => resolved.get(key)?.[0];
  const defaults = DEFAULT_KEYS.map((k) => join(homedir(), '.ssh', k));
  const identityFiles = [...(identity ? [expandHome(identity)] : []), ...(given.identityFiles ?? []), ...(resolved.get('identityfile') ?? []), ...defaults]
    .filter((f, i, all) => all.indexOf(f) === i)
    .filter((f) => existsSync(f));
  const jumpText = first('proxyjump');
  const jumps: SshHost[] = [];
  if (jumpText && jumpText.toLowerCase() !== 'none') {
    const hops = jumpText.split(',').map((hop) => buildHost(hop.trim(), parseHostString(hop.trim()), configPath, undefined, depth + 1));
    // As `ssh -J a,b` does: the first hop is reached the way its own config says (its ProxyJump first); later hops through it.
    jumps.push(...hops[0].jumps, { ...hops[0], jumps: [] }, ...hops.slice(1).map((h) => ({ ...h, jumps: [] })));
  }
  const proxy = first('proxycommand');
  const notUsed = [...resolved.keys()].filter((k) => !USED.has(k));
  return {
    name,
    host: first('hostname') as string,
    port: Number(first('port')),
    user: first('user') as string,
    identityFiles,
    jumps,
    ...(proxy && proxy.toLowerCase() !== 'none' ? { proxyCommand: expandTokens(proxy, proxyCommandTokens(resolved, given.host), 'ProxyCommand') } : {}),
    ...(notUsed.length ? { notUsed } : {}),
  };
}

export function resolveTarget(spec: string, options: ResolveOptions = {}): TargetSpec {
  const text = spec.trim();
  // Only an empty setting means this machine: a blank one is a mistake, not a choice of target.
  if (text === '' && spec !== '') throw new Error(`"${spec}" names no target: give local, ssh://user@host[:port], user@host, an ~/.ssh/config alias or kernel:<version>.`);
  if (text === '' || text === 'local') return { kind: 'local', name: 'local' };
  if (text.startsWith(KERNEL_TARGET_PREFIX)) {
    const kernel = text.slice(KERNEL_TARGET_PREFIX.length);
    if (!kernel) throw new Error(`"${text}" names no kernel: write kernel:6.1 (a version) or kernel:/path/to/bzImage.`);
    return { kind: 'kernel', name: text, kernel };
  }
  const setting = options.settings?.find((s) => s.name === text);
  if (setting) {
    const given: Partial = {
      host: setting.host,
      user: setting.user,
      port: setting.port,
      identityFiles: setting.identityFile ? [expandHome(setting.identityFile)] : undefined,
    };
    return { kind: 'ssh', name: text, host: buildHost(text, given, options.sshConfigPath, options.identity, 0) };
  }
  return { kind: 'ssh', name: text, host: buildHost(text, parseHostString(text), options.sshConfigPath, options.identity, 0) };
}

/** Names the user can pick from: the settings' targets, then the concrete Host aliases of ~/.ssh/config. */
export function configuredTargetNames(settings: SshTargetSetting[], sshConfigPath?: string): string[] {
  return [...new Set([...settings.map((s) => s.name), ...configuredAliases(sshConfigPath)])];
}
