// The agent's JSON-lines loop: reads one request per line from stdin, dispatches it through a method table,
// writes one response per line (plus unsolicited events) to stdout, and exits as soon as stdin closes.
import { createInterface } from 'node:readline';
import type { AgentErrorPayload, AgentEvent, AgentMethod, AgentMethods } from '../../protocol/agent-rpc';
import { AGENT_VERSION } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { exitImmediately } from './immediate-exit';

/** What a method handler may use besides its params. */
export interface AgentContext {
  /** Sends an unsolicited event line (e.g. ring buffer records) to the client. */
  emit(event: AgentEvent): void;
}

export type MethodHandler<M extends AgentMethod> = (
  params: AgentMethods[M]['params'],
  context: AgentContext,
) => AgentMethods[M]['result'] | Promise<AgentMethods[M]['result']>;

export type MethodTable = { [M in AgentMethod]?: MethodHandler<M> };

function errorPayload(method: string, err: unknown): AgentErrorPayload {
  if (err instanceof AgentError) return { message: err.message, code: err.code };
  return { message: `The agent failed in ${method}: ${(err as Error)?.message ?? String(err)}`, code: 'EINTERNAL' };
}

/**
 * Serves requests until stdin closes, then exits the process: every BPF object, link and map the agent
 * holds is a file descriptor, so the kernel detaches and frees everything at exit.
 */
export function serve(methods: MethodTable): void {
  const write = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const context: AgentContext = { emit: (event) => write(event) };
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let request: { id?: unknown; method?: unknown; params?: unknown };
    try {
      request = JSON.parse(line);
    } catch {
      write({ id: -1, error: { message: `The agent received a line that is not JSON: ${line.slice(0, 80)}`, code: 'EPROTO' } });
      return;
    }
    const id = typeof request.id === 'number' ? request.id : -1;
    const method = String(request.method);
    const handler = methods[method as AgentMethod] as MethodHandler<AgentMethod> | undefined;
    if (!handler) {
      const known = Object.keys(methods).join(', ');
      write({ id, error: { message: `The agent (version ${AGENT_VERSION}) has no method "${method}"; it supports ${known}. Update the agent.`, code: 'ENOMETHOD' } });
      return;
    }
    Promise.resolve()
      .then(() => handler((request.params ?? {}) as never, context))
      .then(
        (result) => write({ id, result }),
        (err: unknown) => write({ id, error: errorPayload(method, err) }),
      );
  });
  lines.on('close', () => exitImmediately(0));
  process.stdin.on('error', () => exitImmediately(0));
  process.stdout.on('error', () => exitImmediately(0));
}
