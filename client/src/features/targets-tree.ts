// The "eBPF Targets" tree view (ebpfStudio.targets): targets → sessions → programs and maps with their status;
// items carry targetName/session/program/map for the commands on them. Talks to the editor's TargetSessions.
import * as vscode from 'vscode';
import { LOCAL_TARGET, type Studio } from '../studio';
import { targetRows, type TargetRow } from '../targets/target-tree-items';

class TargetTreeItem extends vscode.TreeItem {
  readonly targetName: string;
  readonly session?: string;
  readonly program?: string;
  readonly map?: string;

  constructor(readonly row: TargetRow) {
    super(row.label, row.collapsible ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    this.id = row.id;
    this.description = row.description;
    this.tooltip = row.tooltip;
    this.iconPath = new vscode.ThemeIcon(row.icon);
    this.contextValue = row.contextValue;
    this.targetName = row.targetName;
    this.session = row.session;
    this.program = row.program;
    this.map = row.map;
    if (row.command) this.command = { command: row.command.id, title: row.command.title, arguments: [{ targetName: row.targetName, session: row.session, map: row.map }] };
  }
}

class TargetsTreeProvider implements vscode.TreeDataProvider<TargetTreeItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly studio: Studio) {}

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(item: TargetTreeItem): vscode.TreeItem {
    return item;
  }

  getChildren(item?: TargetTreeItem): TargetTreeItem[] {
    if (item) return item.row.children.map((r) => new TargetTreeItem(r));
    const names = [LOCAL_TARGET, ...this.studio.settings().targets.map((t) => t.name)];
    const current = this.studio.currentTarget();
    if (!names.includes(current)) names.push(current);
    return targetRows(names, this.studio.targets.states(), current).map((r) => new TargetTreeItem(r));
  }
}

export function activate(studio: Studio): void {
  const provider = new TargetsTreeProvider(studio);
  const sessions = studio.targets;
  const onChange = () => provider.refresh();
  sessions.on('change', onChange);
  studio.context.subscriptions.push(
    vscode.window.createTreeView('ebpfStudio.targets', { treeDataProvider: provider, showCollapseAll: true }),
    studio.onDidChangeSettings(onChange),
    studio.onDidChangeTarget(onChange),
    { dispose: () => sessions.off('change', onChange) },
  );
}
