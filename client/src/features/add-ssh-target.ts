// "eBPF: Add SSH Target": asks for user@host[:port] (or an ~/.ssh/config alias), a name and an optional key file,
// adds the entry to the ebpfStudio.targets setting (no secrets in it) and offers to make it current.
import * as vscode from 'vscode';
import type { Studio, TargetConfig } from '../studio';
import { parseHostString } from '../../../engine/targets/target-address';

function validate(text: string): string | undefined {
  if (text.trim() === '') return 'Type user@host, user@host:port, ssh://user@host:port or an ~/.ssh/config host alias.';
  try {
    parseHostString(text.trim());
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

async function addSshTarget(studio: Studio): Promise<void> {
  const address = await vscode.window.showInputBox({ title: 'Add SSH Target (1/3): address', prompt: 'user@host[:port], ssh://user@host[:port] or an ~/.ssh/config alias', validateInput: validate, ignoreFocusOut: true });
  if (!address) return;
  const parsed = parseHostString(address.trim());
  const existing = studio.settings().targets;
  const name = await vscode.window.showInputBox({
    title: 'Add SSH Target (2/3): name',
    value: parsed.host,
    validateInput: (n) => (n.trim() === '' ? 'Give the target a name.' : n.trim() === 'local' || existing.some((t) => t.name === n.trim()) ? `A target named "${n.trim()}" exists already.` : undefined),
    ignoreFocusOut: true,
  });
  if (!name) return;
  const keyChoice = await vscode.window.showQuickPick(
    [{ label: 'ssh-agent, ~/.ssh/config and default keys', value: 'default' }, { label: 'Choose a key file…', value: 'file' }],
    { title: 'Add SSH Target (3/3): authentication (a password is asked when the host wants one)', ignoreFocusOut: true },
  );
  if (!keyChoice) return;
  let identityFile: string | undefined;
  if (keyChoice.value === 'file') {
    const picked = await vscode.window.showOpenDialog({ title: 'Private key for this host', canSelectMany: false, openLabel: 'Use this key' });
    if (!picked?.[0]) return;
    identityFile = picked[0].fsPath;
  }
  const entry: TargetConfig = { name: name.trim(), host: parsed.host, ...(parsed.user ? { user: parsed.user } : {}), ...(parsed.port ? { port: parsed.port } : {}), ...(identityFile ? { identityFile } : {}) };
  await vscode.workspace.getConfiguration('ebpfStudio').update('targets', [...existing, entry], vscode.ConfigurationTarget.Global);
  studio.output(entry.name).appendLine(`[${new Date().toISOString()}] target added: ${JSON.stringify(entry)}`);
  const use = 'Make Current';
  if ((await vscode.window.showInformationMessage(`SSH target "${entry.name}" added.`, use)) === use) await studio.setCurrentTarget(entry.name);
}

export function activate(studio: Studio): void {
  studio.context.subscriptions.push(vscode.commands.registerCommand('ebpfStudio.addSshTarget', () => addSshTarget(studio)));
}
