// Asks for a login's sudo password (up to three times) and has sudo itself check each answer, for the local and SSH
// transports; the password goes to `sudo -S` as the first line of stdin, never on a command line or in the environment.
import { AgentRequestError } from './agent-client';

/** Asks the user for their sudo password; undefined means they did not give one. */
export type SudoPasswordPrompt = (q: { target: string; user: string; attempt: number }) => Promise<string | undefined>;

/** sudo taking the password as the first line of stdin, printing no prompt, neither using nor keeping cached credentials. */
export const SUDO_STDIN_PASSWORD = ['sudo', '-k', '-S', '-p', ''];

/** Runs `SUDO_STDIN_PASSWORD true` with `input` as its whole stdin. */
export type SudoCheck = (input: string) => Promise<{ code: number | null; stderr: string }>;

/**
 * The password sudo accepted (checked with `sudo -k -S true`, so a wrong one never reaches an install). Asks again after
 * a wrong one, up to three times; then, or when sudo refuses for another reason, one message ending with `advice`.
 */
export async function askSudoPassword(prompt: SudoPasswordPrompt, who: { target: string; user: string }, check: SudoCheck, advice: string): Promise<string> {
  const attempts = 3;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const password = await prompt({ ...who, attempt });
    if (password === undefined) throw new AgentRequestError(`${who.target}: sudo wants a password and none was given (no terminal to ask on, or the question was cancelled); nothing was installed or started. ${advice}`, 'ESUDO');
    const checked = await check(`${password}\n`);
    if (checked.code === 0) return password;
    if (!/incorrect password|Sorry, try again/i.test(checked.stderr)) {
      const said = checked.stderr.split('\n').map((line) => line.trim()).filter(Boolean).join(' ');
      throw new AgentRequestError(`${who.target}: sudo refused ${who.user} (${said || `exit code ${checked.code}`}); nothing was installed or started. ${advice}`, 'ESUDO');
    }
  }
  throw new AgentRequestError(`${who.target}: sudo did not accept the password of ${who.user} (${attempts} tries); nothing was installed or started. ${advice}`, 'ESUDO');
}
