// The SSH side of a CLI --target, loaded only when a command reaches an SSH host: ssh2's connector, and its questions
// asked on the terminal (host key fingerprint; password, passphrase and sudo password typed hidden), refused without one.
import type { HostKeyQuestion, SshPrompts } from '../../engine/targets/ssh-connection';
import { askTerminal, terminalSudoPassword } from './terminal-question';

export { connectSshAgent } from '../../engine/targets/ssh-transport';

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
    sudoPassword: terminalSudoPassword,
  };
}

