// Polls a condition until it yields a value or a deadline passes; the tests' only way to wait.
// Talks to nothing: the condition does the looking (files, /proc, bpftool, the page).

/** Calls `probe` every `intervalMs` until it returns something other than undefined; throws on timeout. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
      if (error instanceof WaitAbort) throw error.reason;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Thrown from a probe to stop waiting at once (e.g. the process being waited on has died). */
export class WaitAbort extends Error {
  constructor(readonly reason: Error) {
    super(reason.message);
  }
}
