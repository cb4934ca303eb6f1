// Resolves what the user typed as a target ("local", kernel:6.1, ssh://user@host:port, user@host, a settings name or
// an ~/.ssh/config alias) into a kernel to boot or a concrete SSH host: HostName, User, Port, IdentityFile, ProxyJump.
import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type SSHConfigModule from 'ssh-config' with { 'resolution-mode': 'import' };

// ssh-config ships ESM types with a CommonJS build; load the CommonJS build, typed by the ESM declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SSHConfig: typeof SSHConfigModule = require('ssh-config').default;
type SSHConfig = SSHConfigModule;

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
  /** Hosts to tunnel through, first hop first (ProxyJump). */
  jumps: SshHost[];
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

function loadSshConfig(path: string | undefined): SSHConfig {
  const file = path ?? join(homedir(), '.ssh', 'config');
  if (!existsSync(file)) return new SSHConfig();
  return SSHConfig.parse(readFileSync(file, 'utf8'));
}

type Computed = Record<string, string | string[]>;

function firstValue(computed: Computed, key: string): string | undefined {
  const v = computed[key.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
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

function buildHost(name: string, given: Partial, config: SSHConfig, identity: string | undefined, depth: number): SshHost {
  if (depth > 5) throw new Error(`ProxyJump chain for ${name} is longer than 5 hops (a loop in ~/.ssh/config?)`);
  const computed = config.compute(given.host, { ignoreCase: true }) as unknown as Computed;
  const host = firstValue(computed, 'HostName')?.replace(/%h/g, given.host) ?? given.host;
  const portText = firstValue(computed, 'Port');
  const port = given.port ?? (portText ? Number(portText) : 22);
  const user = given.user ?? firstValue(computed, 'User') ?? userInfo().username;
  const configured = computed['identityfile'];
  const fromConfig = (Array.isArray(configured) ? configured : configured ? [configured] : []).map(expandHome);
  const defaults = DEFAULT_KEYS.map((k) => join(homedir(), '.ssh', k));
  const identityFiles = [...(identity ? [expandHome(identity)] : []), ...(given.identityFiles ?? []), ...fromConfig, ...defaults]
    .filter((f, i, all) => all.indexOf(f) === i)
    .filter((f) => existsSync(f));
  const jumpText = firstValue(computed, 'ProxyJump');
  const jumps =
    jumpText && jumpText.toLowerCase() !== 'none'
      ? jumpText.split(',').map((hop) => buildHost(hop, parseHostString(hop.trim()), config, undefined, depth + 1))
      : [];
  return { name, host, port, user, identityFiles, jumps };
}

export function resolveTarget(spec: string, options: ResolveOptions = {}): TargetSpec {
  const text = spec.trim();
  if (text === '' || text === 'local') return { kind: 'local', name: 'local' };
  if (text.startsWith(KERNEL_TARGET_PREFIX)) {
    const kernel = text.slice(KERNEL_TARGET_PREFIX.length);
    if (!kernel) throw new Error(`"${text}" names no kernel: write kernel:6.1 (a version) or kernel:/path/to/bzImage.`);
    return { kind: 'kernel', name: text, kernel };
  }
  const config = loadSshConfig(options.sshConfigPath);
  const setting = options.settings?.find((s) => s.name === text);
  if (setting) {
    const given: Partial = {
      host: setting.host,
      user: setting.user,
      port: setting.port,
      identityFiles: setting.identityFile ? [expandHome(setting.identityFile)] : undefined,
    };
    return { kind: 'ssh', name: text, host: buildHost(text, given, config, options.identity, 0) };
  }
  return { kind: 'ssh', name: text, host: buildHost(text, parseHostString(text), config, options.identity, 0) };
}

/** Names the user can pick from: the settings' targets, then the concrete Host aliases of ~/.ssh/config. */
export function configuredTargetNames(settings: SshTargetSetting[], sshConfigPath?: string): string[] {
  const config = loadSshConfig(sshConfigPath);
  const aliases: string[] = [];
  for (const line of config) {
    if ('param' in line && line.param.toLowerCase() === 'host') {
      const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
      aliases.push(...values.filter((v) => !/[*?!]/.test(v)));
    }
  }
  return [...new Set([...settings.map((s) => s.name), ...aliases])];
}
