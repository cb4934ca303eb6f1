// Remembers, per target and for the editor session, that the user cancelled the sudo password question, so starts nobody
// asked for (verify on save, helper facts) do not ask again; an explicit action (verify command, attach) allows one more.
import { AgentRequestError } from './agent-client';
import type { SudoPasswordPrompt } from './sudo-password';

export class DeclinedSudoQuestions {
  private readonly declined = new Set<string>();

  /** `ask` for the target so named, except that once its question was cancelled it gets, unasked, an error saying how to be asked again. */
  wrap(target: string, ask: SudoPasswordPrompt): SudoPasswordPrompt {
    return async (q) => {
      if (!this.declined.has(target)) {
        const answer = await ask(q);
        if (answer !== undefined) return answer;
        this.declined.add(target);
      }
      throw new AgentRequestError(
        `${q.target}: the sudo password question was cancelled, so the agent was not started and saves will not ask again this session. ` +
          `To be asked again, run "eBPF: Verify with Kernel" or "eBPF: Attach Probe" on ${target}.`,
        'ESUDO',
      );
    };
  }

  /** The user acted on `target` (verify command, attach): its next start may ask again. */
  allow(target: string): void {
    this.declined.delete(target);
  }
}
