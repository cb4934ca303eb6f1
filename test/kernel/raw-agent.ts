// Test support: the agent bundle run as `node agent.js` with raw stdin/stdout, so tests can send any bytes (lines
// a client would refuse to write) and read each reply line as JSON; exits when its stdin is ended.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface RawAgent {
  pid: number;
  /** Writes bytes as they are (add the newline yourself). */
  send(bytes: string | Buffer): Promise<void>;
  /** Sends one request line and resolves with the reply that carries its id. */
  request(method: unknown, params?: unknown): Promise<{ id: number; result?: unknown; error?: { message: string; code?: string } }>;
  /** The next reply line that is not an event. */
  nextReply(): Promise<Record<string, unknown>>;
  /** Ends stdin and resolves with the exit code and signal. */
  close(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export function startRawAgent(bundle: string): RawAgent {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [bundle], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const replies: Record<string, unknown>[] = [];
  const waiting: ((reply: Record<string, unknown>) => void)[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const message = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
      buffered = buffered.slice(nl + 1);
      if ('event' in message) continue;
      const next = waiting.shift();
      if (next) next(message);
      else replies.push(message);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stdin.on('error', () => undefined);
  let nextId = 1;
  const send = (bytes: string | Buffer) => new Promise<void>((resolve, reject) => child.stdin.write(bytes, (err) => (err ? reject(err) : resolve())));
  const nextReply = () => {
    const ready = replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(({ code, signal }) => reject(new Error(`the agent exited (code ${code}, signal ${signal}) before replying; stderr: ${stderr}`)));
    });
  };
  return {
    pid: child.pid as number,
    send,
    async request(method, params) {
      const id = nextId++;
      await send(`${JSON.stringify({ id, method, params })}\n`);
      const reply = await nextReply();
      if (reply.id !== id) throw new Error(`expected the reply to ${id}, got ${JSON.stringify(reply).slice(0, 200)}`);
      return reply as { id: number; result?: unknown; error?: { message: string; code?: string } };
    },
    nextReply,
    async close() {
      child.stdin.end();
      return exited;
    },
    exited,
    stderr: () => stderr,
  };
}
