// Opens an authenticated ssh2 connection to a resolved host: TCP (or a ProxyJump tunnel, or a ProxyCommand), host key checked
// against known_hosts (ask on first contact, refuse on mismatch), then ssh-agent, key files, password.
import { spawn } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Client, utils as sshUtils, type AnyAuthMethod, type AuthenticationType, type NextAuthHandler } from 'ssh2';
import { KnownHosts, describeRefusal, hostKeyFromBlob, knownHostsName, sha256Fingerprint } from './known-hosts';
import { ChildProcessStream } from './local-transport';
import type { SudoPasswordPrompt } from './sudo-password';
import type { SshHost } from './target-address';

export interface HostKeyQuestion {
  target: string;
  /** As known_hosts writes it: host or [host]:port. */
  address: string;
  keyType: string;
  fingerprint: string;
  knownHostsPath: string;
  /** Key types already recorded for this host (a new type is offered, not a changed key). */
  otherTypesKnown: string[];
}

/** Questions only the user can answer. Returning undefined/false means "cancel". */
export interface SshPrompts {
  confirmHostKey(q: HostKeyQuestion): Promise<boolean>;
  password?(q: { target: string; user: string; address: string; attempt: number }): Promise<string | undefined>;
  passphrase?(q: { target: string; keyFile: string; attempt: number }): Promise<string | undefined>;
  /** The login's own password for sudo on the host, when sudo asks for one (kept in memory for this connection only). */
  sudoPassword?: SudoPasswordPrompt;
}

export interface SshConnectOptions {
  prompts: SshPrompts;
  /** Default ~/.ssh/known_hosts. */
  knownHostsPath?: string;
  /** TCP connect + handshake + authentication budget, not counting time spent in prompts. Default 10 s. */
  timeoutMs?: number;
  /** ssh-agent socket; default $SSH_AUTH_SOCK. null disables the agent. */
  agentSocket?: string | null;
  /** A password already known (e.g. from the editor's secret storage), tried before asking. */
  password?: string;
  /** Called with what happened, for the target's output channel. */
  log?: (line: string) => void;
}

export type SshFailure = 'host-down' | 'timeout' | 'host-key-refused' | 'auth-failed' | 'cancelled' | 'protocol';

export class SshConnectError extends Error {
  constructor(
    readonly kind: SshFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SshConnectError';
  }
}

/** What authenticated, so a caller may offer to remember a password that worked. */
export interface SshConnection {
  client: Client;
  host: SshHost;
  authenticatedWith: 'agent' | 'publickey' | 'password';
  /** The password the user typed, when password authentication succeeded (never persisted here). */
  password?: string;
  /** Closes this connection and every jump connection under it. */
  close(): void;
}

const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Prefer the key types known_hosts already has for this host, as OpenSSH does, so a known host is not re-asked. */
function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const preferred = knownTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  return [...new Set([...preferred.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS])];
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SshConnectError('timeout', `No answer from ${host}:${port} within ${timeoutMs / 1000} s: check the address, the port and any firewall.`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const address = `${host}:${port}`;
      if (err.code === 'ECONNREFUSED') reject(new SshConnectError('host-down', `${address} refused the connection: is sshd running there, and on port ${port}?`));
      else if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') reject(new SshConnectError('host-down', `Cannot resolve the host name "${host}": check the target's HostName.`));
      else if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') reject(new SshConnectError('host-down', `${address} is unreachable from here (${err.code}).`));
      else reject(new SshConnectError('host-down', `Cannot connect to ${address}: ${err.message}`));
    });
  });
}

/** Runs a ProxyCommand through the shell; its stdout/stdin carry the SSH connection, its stderr goes nowhere. */
function proxyCommandStream(command: string): Duplex {
  const child = spawn(process.env.SHELL || '/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'ignore'] });
  const stream = new ChildProcessStream(child);
  stream.on('close', () => child.exitCode === null && child.signalCode === null && child.kill());
  return stream;
}

function jumpTunnel(via: SshConnection, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    via.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      if (err) reject(new SshConnectError('host-down', `Jump host ${via.host.name} could not reach ${host}:${port}: ${err.message}`));
      else resolve(stream);
    });
  });
}

interface AuthStep {
  label: string;
  next(methodsLeft: AuthenticationType[] | null): Promise<AnyAuthMethod | undefined>;
}

export async function openSsh(host: SshHost, options: SshConnectOptions): Promise<SshConnection> {
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const knownHostsPath = options.knownHostsPath ?? join(homedir(), '.ssh', 'known_hosts');
  const knownHosts = new KnownHosts(knownHostsPath);
  const address = knownHostsName(host.host, host.port);

  const jumps: SshConnection[] = [];
  let sock: Duplex;
  if (host.jumps.length > 0) {
    const [first, ...rest] = host.jumps;
    let via = await openSsh({ ...first, jumps: [] }, options);
    jumps.push(via);
    for (const hop of rest) {
      log(`jump: ${via.host.name} → ${hop.host}:${hop.port}`);
      const tunnel = await jumpTunnel(via, hop.host, hop.port);
      via = await openSshOver(tunnel, { ...hop, jumps: [] }, options);
      jumps.push(via);
    }
    log(`jump: ${via.host.name} → ${host.host}:${host.port}`);
    sock = await jumpTunnel(via, host.host, host.port);
  } else if (host.proxyCommand) {
    log(`connecting through ProxyCommand: ${host.proxyCommand}`);
    sock = proxyCommandStream(host.proxyCommand);
  } else {
    log(`connecting to ${host.host}:${host.port}`);
    sock = await tcpConnect(host.host, host.port, timeoutMs);
  }
  if (host.notUsed?.length) log(`~/.ssh/config sets ${host.notUsed.join(', ')} for ${host.name}; eBPF Studio does not use ${host.notUsed.length === 1 ? 'it' : 'them'}`);
  try {
    const connection = await handshake(sock, host, options, knownHosts, knownHostsPath, address, timeoutMs, log);
    const closeSelf = connection.close;
    connection.close = () => {
      closeSelf();
      for (const j of [...jumps].reverse()) j.close();
    };
    return connection;
  } catch (err) {
    for (const j of [...jumps].reverse()) j.close();
    throw err;
  }
}

function openSshOver(sock: Duplex, host: SshHost, options: SshConnectOptions): Promise<SshConnection> {
  const knownHostsPath = options.knownHostsPath ?? join(homedir(), '.ssh', 'known_hosts');
  return handshake(
    sock,
    host,
    options,
    new KnownHosts(knownHostsPath),
    knownHostsPath,
    knownHostsName(host.host, host.port),
    options.timeoutMs ?? 10_000,
    options.log ?? (() => undefined),
  );
}

function handshake(
  sock: Duplex,
  host: SshHost,
  options: SshConnectOptions,
  knownHosts: KnownHosts,
  knownHostsPath: string,
  address: string,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<SshConnection> {
  const client = new Client();
  return new Promise<SshConnection>((resolve, reject) => {
    let settled = false;
    let refusal: SshConnectError | undefined;
    let timer: NodeJS.Timeout | undefined;
    const tried: string[] = [];
    let authenticatedWith: SshConnection['authenticatedWith'] = 'publickey';
    let typedPassword: string | undefined;

    const fail = (err: SshConnectError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      sock.destroy();
      reject(err);
    };
    /** The budget excludes time the user spends answering a prompt. */
    const startClock = () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new SshConnectError('timeout', `${host.name}: the SSH handshake with ${address} did not finish within ${timeoutMs / 1000} s.`)), timeoutMs);
    };
    const asking = async <T>(question: () => Promise<T>): Promise<T> => {
      clearTimeout(timer);
      try {
        return await question();
      } finally {
        if (!settled) startClock();
      }
    };

    const steps = authSteps(host, options, asking, (label) => tried.push(label), (method, password) => {
      authenticatedWith = method;
      typedPassword = password;
    });
    let stepIndex = 0;
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, callback: NextAuthHandler) => {
      const advance = async (): Promise<AnyAuthMethod | false> => {
        while (stepIndex < steps.length) {
          const step = steps[stepIndex];
          const method = await step.next(methodsLeft);
          if (method) return method;
          stepIndex++;
        }
        return false;
      };
      advance().then(
        (m) => callback(m as AnyAuthMethod),
        (err: unknown) => fail(err instanceof SshConnectError ? err : new SshConnectError('protocol', String(err))),
      );
    };

    client.on('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      log(`authenticated to ${address} as ${host.user} (${authenticatedWith})`);
      resolve({
        client,
        host,
        authenticatedWith,
        password: typedPassword,
        close: () => {
          client.end();
          sock.destroy();
        },
      });
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (refusal) return fail(refusal);
      if (err.level === 'client-authentication') {
        const offered = tried.length ? tried.join(', ') : 'nothing (no ssh-agent, no key file, no password prompt)';
        return fail(
          new SshConnectError(
            'auth-failed',
            `${host.name}: ${address} refused authentication as "${host.user}". Tried: ${offered}. ` +
              `Check the user name, add your public key to ~${host.user}/.ssh/authorized_keys on the host, or set an IdentityFile.`,
          ),
        );
      }
      fail(new SshConnectError('protocol', `${host.name}: SSH error with ${address}: ${err.message}`));
    });
    client.on('close', () => fail(refusal ?? new SshConnectError('protocol', `${host.name}: ${address} closed the connection during the SSH handshake.`)));

    startClock();
    client.connect({
      sock: sock as unknown as Socket,
      username: host.user,
      readyTimeout: 0,
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: hostKeyAlgorithms(knownHosts.knownTypes(host.host, host.port)) as never },
      authHandler,
      hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
        const key = hostKeyFromBlob(blob);
        const verdict = knownHosts.verify(host.host, host.port, key);
        if (verdict.kind === 'known') {
          log(`host key ${key.type} ${sha256Fingerprint(blob)} matches ${knownHostsPath}`);
          return verify(true);
        }
        if (verdict.kind !== 'unknown') {
          refusal = new SshConnectError('host-key-refused', describeRefusal(host.host, host.port, key, verdict, knownHostsPath));
          log(refusal.message);
          return verify(false);
        }
        const question: HostKeyQuestion = {
          target: host.name,
          address,
          keyType: key.type,
          fingerprint: sha256Fingerprint(blob),
          knownHostsPath,
          otherTypesKnown: verdict.otherTypesKnown,
        };
        asking(() => options.prompts.confirmHostKey(question)).then(
          (accepted) => {
            if (!accepted) {
              refusal = new SshConnectError('host-key-refused', `${host.name}: host key ${key.type} ${question.fingerprint} of ${address} was not accepted; nothing was saved.`);
              log(refusal.message);
              return verify(false);
            }
            knownHosts.add(host.host, host.port, key);
            log(`host key ${key.type} ${question.fingerprint} of ${address} accepted and added to ${knownHostsPath}`);
            verify(true);
          },
          (err: unknown) => {
            refusal = new SshConnectError('cancelled', `${host.name}: ${err instanceof Error ? err.message : 'the host key question was cancelled.'}`);
            verify(false);
          },
        );
      },
    });
  });
}

function authSteps(
  host: SshHost,
  options: SshConnectOptions,
  asking: <T>(q: () => Promise<T>) => Promise<T>,
  noteTried: (label: string) => void,
  noteMethod: (method: SshConnection['authenticatedWith'], password?: string) => void,
): AuthStep[] {
  const steps: AuthStep[] = [];
  const agent = options.agentSocket === undefined ? process.env.SSH_AUTH_SOCK : options.agentSocket;
  const allows = (left: AuthenticationType[] | null, m: AuthenticationType) => left === null || left.includes(m);
  if (agent) {
    let used = false;
    steps.push({
      label: 'ssh-agent',
      next: async (left) => {
        if (used || !allows(left, 'publickey')) return undefined;
        used = true;
        noteTried('ssh-agent');
        noteMethod('agent');
        return { type: 'agent', username: host.user, agent };
      },
    });
  }
  for (const keyFile of host.identityFiles) {
    let used = false;
    steps.push({
      label: keyFile,
      next: async (left) => {
        if (used || !allows(left, 'publickey')) return undefined;
        used = true;
        const data = readFileSync(keyFile);
        let parsed = sshUtils.parseKey(data);
        let passphrase: string | undefined;
        for (let attempt = 1; parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message) && attempt <= 3; attempt++) {
          if (!options.prompts.passphrase) return undefined;
          passphrase = await asking(() => options.prompts.passphrase!({ target: host.name, keyFile, attempt }));
          if (passphrase === undefined) return undefined;
          parsed = sshUtils.parseKey(data, passphrase);
        }
        if (parsed instanceof Error) {
          noteTried(`${keyFile} (unusable: ${parsed.message})`);
          return undefined;
        }
        noteTried(`key ${keyFile}`);
        noteMethod('publickey');
        return { type: 'publickey', username: host.user, key: data, passphrase };
      },
    });
  }
  let attempt = 0;
  steps.push({
    label: 'password',
    next: async (left) => {
      if (!allows(left, 'password') || attempt >= 3) return undefined;
      attempt++;
      let password = attempt === 1 ? options.password : undefined;
      if (password === undefined) {
        if (!options.prompts.password) return undefined;
        password = await asking(() => options.prompts.password!({ target: host.name, user: host.user, address: knownHostsName(host.host, host.port), attempt }));
      }
      if (password === undefined) return undefined;
      noteTried(attempt === 1 ? 'password' : `password (attempt ${attempt})`);
      noteMethod('password', password);
      return { type: 'password', username: host.user, password };
    },
  });
  return steps;
}
