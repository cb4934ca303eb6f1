// Starts the agent on this machine and returns an AgentClient over its stdio: as root straight from a root-owned bundle,
// otherwise from a root-owned, hash-checked install, through `sudo -n` or, when sudo wants it, the user's sudo password.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { machine, tmpdir, userInfo } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Duplex } from 'node:stream';
import { AgentClient, AgentRequestError } from './agent-client';
import { ChildOutputLines } from './child-output-lines';
import { AGENT_STARTING, DEFAULT_INSTALL_ROOT, installScript, launcherPath, type InstallPlan } from './agent-install';
import { agentPackage } from './agent-upload';
import { nodeRuntime, runtimeDirName, type NodeRuntimeOptions } from './node-runtime';
import { askSudoPassword, SUDO_STDIN_PASSWORD, type SudoPasswordPrompt } from './sudo-password';

export interface LocalTransportOptions {
  /** The agent bundle (dist/agent.js); found next to this bundle or in the repository's dist/ by default. */
  agentPath?: string;
  /** Node ≥ 18 to run the agent with; this process's node, or `node` on PATH when running inside Electron. */
  nodePath?: string;
  /** Milliseconds the first `hello` may take (includes sudo). */
  startTimeoutMs?: number;
  /** Each line the agent (or sudo) writes to stderr, for the target's output channel. */
  onStderr?: (line: string) => void;
  /** Called with the spawned process id (the agent, or sudo wrapping it). */
  onSpawn?: (pid: number) => void;
  /** Root-owned folder for the installed copy; default /var/lib/ebpf-studio. */
  installRoot?: string;
  /** Where the Node runtime comes from when this machine's Node may not run as root (not owned by root). */
  runtime?: NodeRuntimeOptions;
  /** Asks for the user's sudo password when `sudo -n` refuses for want of one; the answer lives in memory for this start only. */
  sudoPassword?: SudoPasswordPrompt;
  log?: (line: string) => void;
}

/** A command's exit code and stderr. */
interface CommandOutcome {
  code: number | null;
  stderr: string;
}

/** Runs a command as root: as it is, through `sudo -n`, or through sudo with the password on stdin. */
type RunAsRoot = (argv: string[]) => Promise<CommandOutcome>;

/** Owned by root and writable by root only, and so is every folder above it (sticky folders such as /tmp allowed). */
export function rootOwnedPath(path: string): boolean {
  let p = realpathSync(path);
  for (;;) {
    const st = statSync(p);
    if (st.uid !== 0 || ((st.mode & 0o022) !== 0 && !(st.isDirectory() && (st.mode & 0o1000) !== 0))) return false;
    if (p === dirname(p)) return true;
    p = dirname(p);
  }
}

/** Where the agent bundle is: next to the running bundle (dist/), or dist/ of the repository when run from source. */
export function findAgentBundle(): string {
  const candidates = [join(__dirname, 'agent.js'), join(__dirname, '..', '..', 'dist', 'agent.js')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`The agent bundle is missing (looked for ${candidates.join(' and ')}); run \`npm run build\`.`);
  return found;
}

/** Node ≥ 18 to run an agent with: this process's node, or `node` on PATH when running inside Electron. */
export function findNode(): string {
  if (!process.versions.electron) return process.execPath;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'node');
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error('The local agent needs Node.js ≥ 18 on PATH (`node`); install it, e.g. `apt-get install nodejs`.');
}

/**
 * The child's stdout as the readable side and its stdin as the writable side; closes when the process has exited.
 * With `afterLine`, output up to and including that line (the launcher's) is dropped.
 */
export class ChildProcessStream extends Duplex {
  constructor(
    private readonly child: ChildProcess,
    afterLine?: string,
  ) {
    super();
    let waiting = afterLine === undefined ? undefined : '';
    child.stdout?.on('data', (chunk: Buffer) => {
      if (waiting === undefined) return void this.push(chunk);
      waiting += chunk.toString('latin1');
      const at = waiting.indexOf(`${afterLine}\n`);
      if (at < 0) return;
      const rest = Buffer.from(waiting.slice(at + (afterLine as string).length + 1), 'latin1');
      waiting = undefined;
      if (rest.length) this.push(rest);
    });
    child.on('close', () => {
      this.push(null);
      this.destroy();
    });
    child.on('error', (err) => this.destroy(err));
    child.stdin?.on('error', () => undefined);
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.child.stdin || this.child.stdin.destroyed) callback();
    else this.child.stdin.write(chunk, () => callback());
  }
  override _final(callback: () => void): void {
    this.child.stdin?.end();
    callback();
  }
}

/** How to let `user` start the launcher(s) without a password. */
function allowLauncher(user: string, launcher: string): string {
  return (
    `allow it without a password, e.g. in /etc/sudoers.d/ebpf-studio: \`${user} ALL=(root) NOPASSWD: ${launcher}\` (the root-owned launcher checks the agent's sha256 before each start; ` +
    `installing a new version needs your sudo password once)`
  );
}

function sudoAdvice(launcher: string, sudoSays: string): string {
  return (
    `The local agent needs root (or CAP_BPF) to load BPF programs, and \`sudo -n\` refused to start it (${sudoSays.trim() || 'no reason given'}). ` +
    `Start it from a terminal or the editor, which ask for your sudo password; ${allowLauncher(userInfo().username, launcher)}; or run as root.`
  );
}

/** Runs a command to its end; `input`, when given, is its whole stdin. */
function runCommand([command, ...args]: string[], input?: string): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    child.stdin?.on('error', () => undefined).end(input);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', (err) => resolve({ code: -1, stderr: err.message }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * Installs the agent into the root-owned install folder: the files are staged in a private temp folder, then copied and
 * checked by the root-run install script. Node runs as root only when root owns it; else the runtime.
 */
async function installLocally(agent: string, node: string, installRoot: string, runAsRoot: RunAsRoot, options: LocalTransportOptions): Promise<string> {
  const pkg = agentPackage(agent, machine());
  if (!pkg) throw new AgentRequestError(`No agent build for ${machine()} (koffi has no binary for it).`, 'EAGENT');
  const staging = mkdtempSync(join(tmpdir(), 'ebpf-studio-install-'));
  try {
    for (const f of pkg.files) {
      mkdirSync(dirname(join(staging, f.remote)), { recursive: true });
      writeFileSync(join(staging, f.remote), f.bytes);
    }
    const plan: InstallPlan = { installRoot, dir: pkg.dir, files: pkg.files, staging, removeStaging: false };
    if (rootOwnedPath(node)) plan.nodePath = realpathSync(node);
    else {
      const runtime = await nodeRuntime(machine(), { ...options.runtime, log: options.log });
      writeFileSync(join(staging, 'node-runtime.tgz'), runtime.tarball);
      plan.runtime = { dir: runtimeDirName(machine()), tarball: 'node-runtime.tgz', sha256: runtime.sha256 };
    }
    options.log?.(`installing agent ${pkg.dir} into ${installRoot} (root-owned)`);
    const run = await runAsRoot(['sh', '-c', installScript(plan)]);
    if (run.code === 0) return launcherPath(installRoot, pkg.dir);
    if (run.stderr.startsWith('sudo:')) throw new AgentRequestError(sudoAdvice(launcherPath(installRoot, '*'), run.stderr), 'ESUDO');
    throw new AgentRequestError(`Installing the agent into ${installRoot} failed: ${run.stderr.trim() || `exit code ${run.code}`}`, 'EINSTALL');
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** sudo -n refused because it wants a password (sudo's own words), and there is a way to ask for it. */
function sudoWantsPassword(sudoSaid: string, options: LocalTransportOptions): boolean {
  return options.sudoPassword !== undefined && /a password is required/.test(sudoSaid);
}

/**
 * Spawns the local agent and waits for its `hello`, so a refusal surfaces here with a clear message. Not root, it tries
 * `sudo -n` first; when sudo wants a password it asks once (options.sudoPassword), checks it, and feeds it to `sudo -S`.
 */
export async function connectLocalAgent(options: LocalTransportOptions = {}): Promise<AgentClient> {
  const agent = options.agentPath ?? findAgentBundle();
  const node = options.nodePath ?? findNode();
  const asRoot = process.getuid?.() === 0;
  const installRoot = options.installRoot ?? DEFAULT_INSTALL_ROOT;
  const pkg = agentPackage(agent, machine());
  // Root runs a bundle only where no other user can change it (nor koffi beside it); anything else runs from the root-owned install.
  if (asRoot && rootOwnedPath(agent) && rootOwnedPath(node) && (!pkg || pkg.files.every((f) => rootOwnedPath(f.local)))) return startAgent([node, agent], undefined, options);
  let password: string | undefined;
  const withPassword = async (argv: string[]) => {
    const user = userInfo().username;
    const check = (input: string) => runCommand([...SUDO_STDIN_PASSWORD, 'true'], input);
    password ??= await askSudoPassword(options.sudoPassword as SudoPasswordPrompt, { target: 'local', user }, check, `Loading BPF programs needs root: ${allowLauncher(user, launcherPath(installRoot, '*'))}, or run as root.`);
    return { argv: [...SUDO_STDIN_PASSWORD, ...argv], input: `${password}\n` };
  };
  const runAsRoot: RunAsRoot = async (argv) => {
    if (asRoot) return runCommand(argv);
    const quiet = await runCommand(['sudo', '-n', ...argv]);
    if (quiet.code === 0 || !sudoWantsPassword(quiet.stderr, options)) return quiet;
    const sudo = await withPassword(argv);
    return runCommand(sudo.argv, sudo.input);
  };
  const launch = async (launcher: string) => {
    if (asRoot) return startAgent([launcher], launcher, options);
    try {
      return await startAgent(['sudo', '-n', launcher], launcher, options);
    } catch (err) {
      if ((err as AgentRequestError).code !== 'ESUDO' || !sudoWantsPassword((err as Error).message, options)) throw err;
      const sudo = await withPassword([launcher]);
      return startAgent(sudo.argv, launcher, options, sudo.input);
    }
  };
  const installed = pkg ? launcherPath(installRoot, pkg.dir) : undefined;
  if (installed && existsSync(installed)) {
    try {
      return await launch(installed);
    } catch (err) {
      if (!/does not match its SHA256SUMS/.test((err as Error).message)) throw err;
      options.log?.(`${(err as Error).message}; installing the agent again`);
    }
  }
  return launch(await installLocally(agent, node, installRoot, runAsRoot, options));
}

/** Runs the agent (or its launcher, when given; `firstLine` goes to its stdin before the protocol) and waits for its `hello`. */
async function startAgent([command, ...args]: string[], launcher: string | undefined, options: LocalTransportOptions, firstLine?: string): Promise<AgentClient> {
  const asRoot = process.getuid?.() === 0;
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  if (firstLine !== undefined) child.stdin.write(firstLine);
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  const stderr = new ChildOutputLines(50, options.onStderr);
  stderr.follow(child.stderr);
  const client = new AgentClient(new ChildProcessStream(child, launcher ? AGENT_STARTING : undefined), {
    targetName: 'local',
    closeReason: () => {
      if (spawnError) return `cannot start ${command}: ${spawnError.message}`;
      const tail = stderr.last(5).join(' ');
      return tail ? tail : child.exitCode !== null ? `exit code ${child.exitCode}` : undefined;
    },
    dispose: () => {
      if (child.exitCode === null && child.signalCode === null) child.stdin?.end();
    },
  });
  try {
    await client.request('hello', {}, { timeoutMs: options.startTimeoutMs ?? 20_000 });
  } catch (err) {
    child.kill();
    await client.closed;
    const message = (err as Error).message;
    const said = stderr.last(50);
    if (!asRoot && (spawnError || said.some((l) => l.startsWith('sudo:')))) {
      throw new AgentRequestError(spawnError ? `The local agent runs through sudo, which is not available: ${spawnError.message}. Install sudo or run the editor as root.` : sudoAdvice(launcher as string, said.join(' ')), 'ESUDO');
    }
    throw new AgentRequestError(`The local agent did not start: ${message}`, (err as AgentRequestError).code ?? 'EAGENT');
  }
  return client;
}
