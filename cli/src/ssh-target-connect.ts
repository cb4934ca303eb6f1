// The SSH side of a CLI --target, loaded only when a command reaches an SSH host: ssh2's connector, and its questions
// asked on the terminal (host key fingerprint; password, passphrase and sudo password typed hidden), refused without one.
import type { HostKeyQuestion, SshPrompts } from '../../engine/targets/ssh-connection';

export { connectSshAgent } from '../../engine/targets/ssh-transport';

/** Reads one line from the terminal; hidden input is not echoed. Undefined when there is no terminal. */
function askTerminal(question: string, hidden: boolean): Promise<string | undefined> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.resolve(undefined);
  process.stderr.write(question);
  return new Promise((resolve) => {
    let answer = '';
    stdin.setRawMode(true);
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

export function terminalPrompts(target: string): SshPrompts {
  return {
    async confirmHostKey(q: HostKeyQuestion) {
      const text =
        `The authenticity of host '${q.address}' can't be established.\n` +
        `${q.keyType} key fingerprint is ${q.fingerprint}.\n` +
        (q.otherTypesKnown.length ? `(${q.knownHostsPath} already has a ${q.otherTypesKnown.join(', ')} key for it.)\n` : '') +
        'Are you sure you want to continue connecting (yes/no)? ';
      const answer = await askTerminal(text, false);
      if (answer === undefined) {
        throw new Error(
          `${q.address} is not in ${q.knownHostsPath} (${q.keyType} ${q.fingerprint}) and there is no terminal to ask. ` +
            `Check the fingerprint, then add the key (e.g. \`ssh-keyscan -p PORT HOST >> ${q.knownHostsPath}\`) or run once interactively (--target ${target}).`,
        );
      }
      return answer.trim().toLowerCase() === 'yes';
    },
    password: (q) => askTerminal(`${q.user}@${q.address}'s password${q.attempt > 1 ? ' (try again)' : ''}: `, true),
    passphrase: (q) => askTerminal(`Enter passphrase for key '${q.keyFile}'${q.attempt > 1 ? ' (try again)' : ''}: `, true),
    sudoPassword: (q) => askTerminal(`[sudo] password for ${q.user} on ${q.target}${q.attempt > 1 ? ' (try again)' : ''}: `, true),
  };
}

