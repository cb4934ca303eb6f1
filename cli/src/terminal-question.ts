// Asks questions on the CLI's terminal (stderr for the question, raw stdin for the answer; hidden answers are not echoed):
// SSH host keys and passwords, and the sudo password the local and SSH agents start with. Nothing is kept.
import type { SudoPasswordPrompt } from '../../engine/targets/sudo-password';

/** Reads one line from the terminal; hidden input is not echoed. Undefined when there is no terminal. */
export function askTerminal(question: string, hidden: boolean): Promise<string | undefined> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.resolve(undefined);
  // echo off before the question shows, so an answer typed as soon as it appears is not echoed either
  stdin.setRawMode(true);
  process.stderr.write(question);
  return new Promise((resolve) => {
    let answer = '';
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (value: string | undefined) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(answer);
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined);
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else {
          answer += ch;
          if (!hidden) process.stderr.write(ch);
        }
      }
    };
    stdin.on('data', onData);
  });
}

/** sudo's own question, asked hidden; undefined without a terminal. */
export const terminalSudoPassword: SudoPasswordPrompt = (q) => askTerminal(`[sudo] password for ${q.user}${q.target === 'local' ? '' : ` on ${q.target}`}${q.attempt > 1 ? ' (try again)' : ''}: `, true);
