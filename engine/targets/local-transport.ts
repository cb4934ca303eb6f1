// Starts the agent on this machine (`node agent.js`: directly as root, else through `sudo -n`) and returns an
// AgentClient over its stdio. A refused sudo becomes one message saying what to configure; nothing waits forever.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { Duplex } from 'node:stream';
import { AgentClient, AgentRequestError } from './agent-client';

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

/** The child's stdout as the readable side and its stdin as the writable side; closes when the process has exited. */
export class ChildProcessStream extends Duplex {
  constructor(private readonly child: ChildProcess) {
    super();
    child.stdout?.on('data', (chunk: Buffer) => this.push(chunk));
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

function sudoAdvice(node: string, agent: string, sudoSays: string): string {
  const user = userInfo().username;
  return (
    `The local agent needs root (or CAP_BPF) to load BPF programs, and \`sudo -n\` refused to start it (${sudoSays.trim() || 'no reason given'}). ` +
    `Allow it without a password, e.g. in /etc/sudoers.d/ebpf-studio: \`${user} ALL=(root) NOPASSWD: ${node} ${agent}\`, or run the editor as root.`
  );
}

/** Spawns the local agent and waits for its `hello`, so a refusal surfaces here with a clear message. */
export async function connectLocalAgent(options: LocalTransportOptions = {}): Promise<AgentClient> {
  const agent = options.agentPath ?? findAgentBundle();
  const node = options.nodePath ?? findNode();
  const asRoot = process.getuid?.() === 0;
  const [command, args] = asRoot ? [node, [agent]] : ['sudo', ['-n', node, agent]];
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  const stderrLines: string[] = [];
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  let partialLine = '';
  const takeLine = (line: string) => {
    if (!line) return;
    stderrLines.push(line);
    if (stderrLines.length > 50) stderrLines.shift();
    options.onStderr?.(line);
  };
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    const parts = (partialLine + text).split('\n');
    partialLine = parts.pop() ?? '';
    parts.forEach(takeLine);
  });
  child.stderr?.on('end', () => takeLine(partialLine));
  const client = new AgentClient(new ChildProcessStream(child), {
    targetName: 'local',
    closeReason: () => {
      if (spawnError) return `cannot start ${command}: ${spawnError.message}`;
      const tail = stderrLines.slice(-5).join(' ');
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
    if (!asRoot && (spawnError || stderrLines.some((l) => l.startsWith('sudo:')))) {
      throw new AgentRequestError(spawnError ? `The local agent runs through sudo, which is not available: ${spawnError.message}. Install sudo or run the editor as root.` : sudoAdvice(node, agent, stderrLines.join(' ')), 'ESUDO');
    }
    throw new AgentRequestError(`The local agent did not start: ${message}`, (err as AgentRequestError).code ?? 'EAGENT');
  }
  return client;
}
