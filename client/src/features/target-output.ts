// "eBPF: Show Target Output": reveals the output channel of a target (what was run there and what
// its agent said), picked from the configured targets. Talks to the Studio hub's per-target channels.
import * as vscode from 'vscode';
import { LOCAL_TARGET, type Studio } from '../studio';

/** A target name from a command argument: a string, or a tree item / object carrying `targetName` or `name`. */
function targetNameOf(argument: unknown): string | undefined {
  if (typeof argument === 'string' && argument.length > 0) return argument;
  if (typeof argument === 'object' && argument !== null) {
    const { targetName, name } = argument as { targetName?: unknown; name?: unknown };
    if (typeof targetName === 'string') return targetName;
    if (typeof name === 'string') return name;
  }
  return undefined;
}

async function showTargetOutput(studio: Studio, argument: unknown): Promise<void> {
  let name = targetNameOf(argument);
  if (!name) {
    const names = [...new Set([studio.currentTarget(), LOCAL_TARGET, ...studio.settings().targets.map((t) => t.name), ...studio.connectedTargets()])];
    const connected = new Set(studio.connectedTargets());
    const pick = await vscode.window.showQuickPick(
      names.map((n) => ({ label: n, description: [n === studio.currentTarget() ? 'current' : '', connected.has(n) ? 'connected' : ''].filter(Boolean).join(', ') })),
      { title: 'Show the output of which target?' },
    );
    name = pick?.label;
  }
  if (name) studio.output(name).show(true);
}

export function activate(studio: Studio): void {
  studio.context.subscriptions.push(vscode.commands.registerCommand('ebpfStudio.showTargetOutput', (argument: unknown) => showTargetOutput(studio, argument)));
}
