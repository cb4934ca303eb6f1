// Asks for the user's sudo password in a VS Code input box (password: true) when a target's agent starts through a sudo
// that wants one, locally or over SSH. The answer is handed to the transport for that start only; it is never stored.
import * as vscode from 'vscode';
import type { SudoPasswordPrompt } from '../../../engine/targets/sudo-password';

export const sudoPasswordBox: SudoPasswordPrompt = (q) =>
  Promise.resolve(
    vscode.window.showInputBox({
      title: `sudo password for ${q.user}${q.target === 'local' ? ' on this machine' : ` on ${q.target}`}`,
      prompt:
        q.attempt > 1
          ? 'sudo refused that password; try again.'
          : 'Loading BPF programs needs root: eBPF Studio runs its agent through sudo. The password is used for this start only and never stored.',
      password: true,
      ignoreFocusOut: true,
    }),
  );
