// The status-bar target switcher and "eBPF: Select Target": shows the current target with its connection status,
// and picks another from local, the ebpfStudio.targets setting and ~/.ssh/config aliases. Talks to the Studio hub.
import * as vscode from 'vscode';
import { LOCAL_TARGET, type Studio } from '../studio';
import { configuredTargetNames } from '../../../engine/targets/target-address';
import { itemRef } from '../targets/target-item-ref';

const STATUS_ICONS: Record<string, string> = { connecting: '$(loading~spin)', attaching: '$(loading~spin)', attached: '$(pass-filled)', failed: '$(error)', disconnected: '$(debug-disconnect)', connected: '$(vm-connect)' };

async function selectTarget(studio: Studio, argument: unknown): Promise<void> {
  const given = itemRef(argument).targetName;
  if (given) return studio.setCurrentTarget(given);
  const settings = studio.settings();
  const states = new Map(studio.targets.states().map((s) => [s.name, s]));
  let aliases: string[] = [];
  try {
    aliases = configuredTargetNames([]);
  } catch (err) {
    studio.log.appendLine(`[warn] ~/.ssh/config could not be read: ${(err as Error).message}`);
  }
  const names = [...new Set([LOCAL_TARGET, ...settings.targets.map((t) => t.name), ...aliases])];
  const add = '$(add) Add SSH Target…';
  const items: vscode.QuickPickItem[] = names.map((name) => {
    const setting = settings.targets.find((t) => t.name === name);
    const where = name === LOCAL_TARGET ? 'this machine' : setting ? `${setting.user ? `${setting.user}@` : ''}${setting.host}${setting.port ? `:${setting.port}` : ''}` : '~/.ssh/config';
    const status = states.get(name)?.status;
    return { label: name, description: [where, name === studio.currentTarget() ? 'current' : '', status ?? ''].filter(Boolean).join(' · ') };
  });
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator }, { label: add });
  const pick = await vscode.window.showQuickPick(items, { title: 'eBPF target for Verify and Attach', placeHolder: 'local, an SSH target, or an ~/.ssh/config host' });
  if (!pick) return;
  if (pick.label === add) return void vscode.commands.executeCommand('ebpfStudio.addSshTarget');
  await studio.setCurrentTarget(pick.label);
}

export function activate(studio: Studio): void {
  const item = vscode.window.createStatusBarItem('ebpfStudio.target', vscode.StatusBarAlignment.Left, 40);
  item.name = 'eBPF Target';
  item.command = 'ebpfStudio.selectTarget';
  const update = () => {
    const name = studio.currentTarget();
    const state = studio.targets.state(name);
    item.text = `${(state && STATUS_ICONS[state.status]) ?? '$(remote)'} eBPF: ${name}`;
    item.tooltip = `eBPF target: ${name}${state ? ` (${state.status}${state.message ? `: ${state.message}` : ''})` : ''}\nClick to choose another target.`;
    item.show();
  };
  update();
  studio.targets.on('change', update);
  studio.context.subscriptions.push(
    item,
    studio.onDidChangeTarget(update),
    { dispose: () => studio.targets.off('change', update) },
    vscode.commands.registerCommand('ebpfStudio.selectTarget', (argument: unknown) => selectTarget(studio, argument)),
  );
}
