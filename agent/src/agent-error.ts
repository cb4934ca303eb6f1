// An error the agent reports to its client as-is: a message the user can act on and a stable code.
// Thrown by every agent module; the RPC loop turns it into the response's `error` field.
export class AgentError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
