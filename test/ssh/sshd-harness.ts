// Starts a real OpenSSH sshd on 127.0.0.1 for SSH tests: throw-away host key, user key, authorized_keys and
// known_hosts in a temp dir; started, and stopped with its session processes, by PID. Talks to /usr/sbin/sshd.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
const PRIVSEP_DIR = '/run/sshd';

export interface TestSshd {
  port: number;
  dir: string;
  pid: number;
  /** Private key the test user logs in with. */
  userKey: string;
  /** The host's public key line ("ssh-ed25519 AAAA… comment"). */
  hostPublicKey: string;
  /** Its SHA256 fingerprint as ssh-keygen prints it. */
  hostFingerprint: string;
  /** PIDs of sshd's per-connection processes (children of the listener). */
  sessionPids(): number[];
  stop(): Promise<void>;
}

/** Why SSH tests cannot run here, or undefined when they can. */
export function sshPrerequisiteMissing(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is missing (apt-get install openssh-server)`;
  if (process.getuid?.() !== 0) return 'SSH tests log in as root over 127.0.0.1 and load BPF programs; run them as root';
  // sshd's privilege separation directory, cleared at each boot; made by set-up, never by a test: a test run that made
  // and removed it took it away from another run's sshd, whose logins then failed with ECONNRESET
  if (!existsSync(PRIVSEP_DIR)) return `${PRIVSEP_DIR} is missing (bash scripts/setup.sh mounts)`;
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}


function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function childPids(pid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch {
      // the process ended while listing
    }
  }
  return pids;
}

export interface SshdOptions {
  passwordAuthentication?: boolean;
  /** Offer the SFTP subsystem (default true); false makes a host that refuses SFTP. */
  sftp?: boolean;
  /** Run sshd in a private mount namespace where every node binary on PATH is hidden (a host without Node). */
  hideNode?: boolean;
}

/** The node binaries a login shell would find (real files, each hidden once). */
function nodeBinaries(): string[] {
  const found = new Set<string>();
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin', '/bin'])) {
    for (const name of ['node', 'nodejs']) {
      const path = join(dir, name);
      if (dir && existsSync(path)) found.add(realpathSync(path));
    }
  }
  return [...found];
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-sshd-'));
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ebpf-studio-test', '-f', join(dir, file)]);
  keygen('host_key');
  keygen('user_key');
  // sshd reads AuthorizedKeysFile as the logging-in user: let unprivileged test users read it (the keys stay 0600).
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_key.pub')), { mode: 0o644 });
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      `PasswordAuthentication ${options.passwordAuthentication ? 'yes' : 'no'}`,
      'KbdInteractiveAuthentication no',
      ...(options.sftp === false ? [] : ['Subsystem sftp internal-sftp']),
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const sshdArgs = ['-D', '-e', '-f', join(dir, 'sshd_config')];
  let child: ChildProcess;
  if (options.hideNode) {
    // An empty, non-executable file bound over each node binary, visible only inside this sshd's mount namespace.
    const blank = join(dir, 'no-node');
    writeFileSync(blank, '', { mode: 0o600 });
    const binds = nodeBinaries().map((n) => `mount --bind ${blank} ${n}`);
    child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${binds.join(' && ')} && exec ${SSHD} "$@"`, 'sh', ...sshdArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  } else {
    child = spawn(SSHD, sshdArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start listening within 5 s:\n${log}`)), 5000);
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      log += text;
      if (log.includes('Server listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code}:\n${log}`));
    });
  });
  const hostPublicKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim();
  const hostFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1];
  const pid = child.pid as number;
  let stopped = false;
  return {
    port,
    dir,
    pid,
    userKey: join(dir, 'user_key'),
    hostPublicKey,
    hostFingerprint,
    sessionPids: () => childPids(pid),
    async stop() {
      if (stopped) return;
      stopped = true;
      const sessions = childPids(pid);
      child.kill('SIGTERM');
      for (const session of sessions) {
        try {
          process.kill(session, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await waitForExit(child, 5000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
