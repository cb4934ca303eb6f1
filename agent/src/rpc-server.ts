// The agent's JSON-lines loop: reads one request per line from stdin (lines capped), checks it against the protocol
// schema, dispatches it through a method table, writes one response per line (plus events) and exits when stdin closes.
import type { AgentErrorPayload, AgentEvent, AgentMethod, AgentMethods } from '../../protocol/agent-rpc';
import { AGENT_VERSION } from '../../protocol/agent-rpc';
import { AGENT_SCHEMA, MAX_REQUEST_LINE_BYTES, isAgentMethod, requestId } from '../../protocol/agent-schema';
import { LineSplitter } from '../../protocol/line-splitter';
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

export type MethodTable = { [M in AgentMethod]: MethodHandler<M> };

function errorPayload(method: string, err: unknown): AgentErrorPayload {
  if (err instanceof AgentError) return { message: err.message, code: err.code };
  return { message: `The agent failed in ${method}: ${(err as Error)?.message ?? String(err)}`, code: 'EINTERNAL' };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The request on one line, or the error reply it gets. */
function parseRequest(line: string): { id: number; method: AgentMethod; params: unknown } | { id: number; error: AgentErrorPayload } {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return { id: -1, error: { message: `The agent received a line that is not JSON: ${line.slice(0, 80)}`, code: 'EPROTO' } };
  }
  if (!isObject(request)) return { id: -1, error: { message: 'A request must be a JSON object {"id", "method", "params"}.', code: 'EPROTO' } };
  const rawId = Object.hasOwn(request, 'id') ? request.id : undefined;
  const idProblem = requestId(rawId, 'id');
  if (idProblem) return { id: -1, error: { message: `A request needs an id: ${idProblem}.`, code: 'EPROTO' } };
  const id = rawId as number;
  const method = Object.hasOwn(request, 'method') ? request.method : undefined;
  if (!isAgentMethod(method)) {
    const shown = typeof method === 'string' ? `"${method.slice(0, 64)}"` : String(typeof method);
    return { id, error: { message: `The agent (version ${AGENT_VERSION}) has no method ${shown}; it supports ${Object.keys(AGENT_SCHEMA).join(', ')}. Update the agent.`, code: 'ENOMETHOD' } };
  }
  const params = Object.hasOwn(request, 'params') && request.params !== undefined ? request.params : {};
  const problem = AGENT_SCHEMA[method].params(params, 'params');
  if (problem) return { id, error: { message: `Bad ${method} request: ${problem}.`, code: 'EINVAL' } };
  return { id, method, params };
}

/**
 * Serves requests until stdin closes, then exits the process: every BPF object, link and map the agent
 * holds is a file descriptor, so the kernel detaches and frees everything at exit. `beforeExit` runs first
 * (it removes what is not held by a descriptor: pins).
 */
export function serve(methods: MethodTable, beforeExit: () => void): void {
  const write = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const context: AgentContext = { emit: (event) => write(event) };
  const exit = () => {
    try {
      beforeExit();
    } finally {
      exitImmediately(0);
    }
  };
  const lines = new LineSplitter(MAX_REQUEST_LINE_BYTES, {
    line(line) {
      if (line.trim() === '') return;
      const request = parseRequest(line);
      if ('error' in request) {
        write(request);
        return;
      }
      const { id, method } = request;
      const handler = methods[method] as MethodHandler<AgentMethod>;
      Promise.resolve()
        .then(() => handler(request.params as never, context))
        .then(
          (result) => write({ id, result }),
          (err: unknown) => write({ id, error: errorPayload(method, err) }),
        );
    },
    tooLong() {
      write({ id: -1, error: { message: `The agent skipped a request line longer than ${MAX_REQUEST_LINE_BYTES} bytes (the limit of a request).`, code: 'ETOOLONG' } });
    },
  });
  process.stdin.on('data', (chunk: Buffer) => lines.push(chunk));
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
  process.stdin.on('error', exit);
  process.stdout.on('error', exit);
}
