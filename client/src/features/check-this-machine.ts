// "eBPF: Check This Machine": the local doctor's checklist (kernel, BTF, bpffs, tracefs, kprobes, lockdown, privileges,
// clang, libbpf) in the local target's output, and for what is missing its fix commands typed into a terminal, not run.
import * as vscode from 'vscode';
import { LOCAL_TARGET, type Studio } from '../studio';

async function checkThisMachine(studio: Studio): Promise<void> {
  const { checkThisMachine: runChecks, formatChecks } = await import('../../../engine/targets/local-doctor.js');
  const checks = await runChecks({ clangPath: studio.settings().clangPath });
  const output = studio.output(LOCAL_TARGET);
  output.appendLine(`Check of this machine (${new Date().toLocaleString()}):`);
  output.append(formatChecks(checks));
  output.show(true);
  const missing = checks.filter((c) => c.status === 'missing');
  if (missing.length === 0) {
    void vscode.window.showInformationMessage(`eBPF Studio: this machine is ready${checks.some((c) => c.status === 'limited') ? ' (some features are limited: see the output)' : ''}.`);
    return;
  }
  const commands = missing.filter((c) => c.fix && !c.fix.endsWith('.')).map((c) => c.fix as string);
  const choice = await vscode.window.showWarningMessage(
    `eBPF Studio: this machine lacks ${missing.map((c) => c.name).join(', ')}.`,
    ...(commands.length ? ['Type the Fixes in a Terminal'] : []),
  );
  if (choice) {
    const terminal = vscode.window.createTerminal('eBPF Studio: fixes');
    terminal.show();
    // Typed, not run: nothing on this machine changes until the user reads the commands and presses Enter.
    terminal.sendText(commands.join(' && '), false);
  }
}

export function activate(studio: Studio): void {
  studio.context.subscriptions.push(vscode.commands.registerCommand('ebpfStudio.checkThisMachine', () => checkThisMachine(studio)));
}
