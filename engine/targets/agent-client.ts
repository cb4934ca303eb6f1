// Typed client of the agent's JSON-lines RPC (protocol/agent-rpc.ts) over any Duplex byte stream: a child process's
// stdio locally, an ssh2 exec channel remotely. Requests and replies are checked against protocol/agent-schema.ts.
import type { Duplex } from 'node:stream';
import type { AgentEvent, AgentMethod, AgentMethods } from '../../protocol/agent-rpc';
import { AGENT_SCHEMA, MAX_REPLY_LINE_BYTES, agentEvent, errorPayload, requestId } from '../../protocol/agent-schema';
import { LineSplitter } from '../../protocol/line-splitter';

export interface AgentClientOptions {
  /** Target name used in messages, e.g. "local" or "web1". */
  targetName: string;
  /** Milliseconds a request may take before it fails; per-request override with `timeoutMs`. */
  defaultTimeoutMs?: number;
  /** Says why the stream closed (e.g. the agent's stderr, sudo's refusal), appended to the close error. */
  closeReason?: () => string | undefined;
  /** Called to end the transport (kill the child, close the channel) after the stream is ended. */
  dispose?: () => void;
}

export interface RequestOptions {
  timeoutMs?: number;
}

/** A request the agent answered with an error, or one that failed (timeout, closed stream). */
export class AgentRequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface Pending {
  method: AgentMethod;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export class AgentClient {
  readonly targetName: string;
  /** Resolves (never rejects) with the reason once the stream has closed. */
  readonly closed: Promise<string>;
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners = new Set<(event: AgentEvent) => void>();
  private nextId = 1;
  private readonly lines: LineSplitter;
  /** Why the connection closed, worded to follow "the agent on <target> …": "was stopped", "exited: exit code 1". */
  private closeReason: string | undefined;
  /** close() was called: an agent that then exits normally was stopped, not lost. */
  private closeRequested = false;
  private markClosed: (reason: string) => void = () => undefined;

  constructor(
    private readonly stream: Duplex,
    private readonly options: AgentClientOptions,
  ) {
    this.targetName = options.targetName;
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.lines = new LineSplitter(MAX_REPLY_LINE_BYTES, {
      line: (line) => this.dispatch(line),
      tooLong: () => {
        this.shutDown(`it sent a line longer than the ${MAX_REPLY_LINE_BYTES} bytes a reply may have`);
        this.stream.destroy();
      },
    });
    stream.on('data', (chunk: Buffer | string) => this.lines.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.on('error', (err: Error) => this.shutDown(err.message));
    stream.on('close', () => this.shutDown());
    stream.on('end', () => this.shutDown());
  }

  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Sends one request and resolves with its typed result. */
  request<M extends AgentMethod>(method: M, params: AgentMethods[M]['params'], options: RequestOptions = {}): Promise<AgentMethods[M]['result']> {
    if (this.closeReason !== undefined) {
      return Promise.reject(new AgentRequestError(`The agent on ${this.targetName} is not running (${this.closeReason}); reconnect and try again.`, 'ECLOSED'));
    }
    const problem = AGENT_SCHEMA[method].params(params, 'params');
    if (problem) return Promise.reject(new AgentRequestError(`Bad ${method} request for the agent on ${this.targetName}: ${problem}.`, 'EINVAL'));
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AgentRequestError(`The agent on ${this.targetName} did not answer "${method}" within ${Math.round(timeoutMs / 1000)} s.`, 'ETIMEDOUT'));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.stream.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  /** Listens to unsolicited events (ring/perf buffer records…); returns the unsubscribe function. */
  onEvent(listener: (event: AgentEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Ends the agent's stdin (it exits and the kernel detaches everything) and waits until the stream closed. */
  async close(): Promise<void> {
    if (this.closeReason === undefined) {
      this.closeRequested = true;
      this.stream.end();
      this.options.dispose?.();
    }
    await this.closed;
  }

  /** Lines that are not a reply to a pending request or a well-formed event are ignored. */
  private dispatch(line: string): void {
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
    const reply = message as Record<string, unknown>;
    if (Object.hasOwn(reply, 'event')) {
      if (agentEvent(reply, 'event') !== undefined) return;
      for (const listener of this.eventListeners) listener(reply as unknown as AgentEvent);
      return;
    }
    if (requestId(reply.id, 'id') !== undefined) return;
    const id = reply.id as number;
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    const malformed = (problem: string) => pending.reject(new AgentRequestError(`The agent on ${this.targetName} sent a malformed reply to "${pending.method}": ${problem}.`, 'EPROTO'));
    if (Object.hasOwn(reply, 'error')) {
      const problem = errorPayload(reply.error, 'error');
      if (problem) malformed(problem);
      else {
        const error = reply.error as { message: string; code?: string };
        pending.reject(new AgentRequestError(error.message, error.code ?? 'EAGENT'));
      }
      return;
    }
    const problem = AGENT_SCHEMA[pending.method].result(reply.result, 'result');
    if (problem) malformed(problem);
    else pending.resolve(reply.result);
  }

  private shutDown(error?: string): void {
    if (this.closeReason !== undefined) return;
    const detail = this.options.closeReason?.() ?? error;
    this.closeReason = this.closeRequested && (!detail || detail === 'exit code 0') ? 'was stopped' : detail ? `exited: ${detail}` : 'exited';
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(new AgentRequestError(`The connection to the agent on ${this.targetName} closed while waiting for "${pending.method}"${detail ? `: ${detail}` : '.'}`, 'ECLOSED'));
    }
    this.markClosed(this.closeReason);
  }
}
