// Status-bar item showing the kernel version the static rules check against, and the
// "Select Target Kernel" quick pick that sets ebpfStudio.targetKernel. Talks to the language server.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { TargetKernelRequest, type TargetKernelInfo } from '../../../protocol/lsp-requests';
import type { Studio } from '../studio';

/** Long-term-support kernels offered in the picker, newest first. */
export const LTS_KERNELS = ['6.12', '6.6', '6.1', '5.15', '5.10', '5.4', '4.19'];

const KERNEL_VERSION = /^\d+\.\d+(\.\d+)?$/;

/** Checks what the user typed as a custom kernel version; undefined when it is valid. */
export function validateKernelVersion(text: string): string | undefined {
  return KERNEL_VERSION.test(text.trim()) ? undefined : 'Type a kernel version such as 5.15 or 6.1.0.';
}

/** "6.18.0-1-amd64" → "6.18": the part of a release string the version rules use. */
export function majorMinor(release: string): string {
  const match = /^(\d+)\.(\d+)/.exec(release);
  return match ? `${match[1]}.${match[2]}` : release;
}

interface KernelPick extends vscode.QuickPickItem {
  version?: string;
}

/** What the item shows before the server answers: the setting, or this machine's kernel. */
function labelFromSetting(setting: string): { text: string; tooltip: string } {
  if (setting === '') {
    const release = os.release();
    return { text: `$(versions) Kernel ${majorMinor(release)}`, tooltip: `Static rules check against this machine's kernel (${release}). Click to change.` };
  }
  return { text: `$(versions) Kernel ${setting}`, tooltip: `Static rules check against kernel ${setting} (ebpfStudio.targetKernel). Click to change.` };
}

/** What the item shows once the language server has said which kernel its rules use. */
export function labelFromServer(info: TargetKernelInfo, setting: string): { text: string; tooltip: string } {
  if (info.source === 'setting') {
    return { text: `$(versions) Kernel ${info.version}`, tooltip: `Static rules check against kernel ${info.version} (ebpfStudio.targetKernel); helper facts: ${info.helperFacts}. Click to change.` };
  }
  if (info.source === 'target') {
    return { text: `$(versions) Kernel ${info.version}`, tooltip: `Static rules check against the current target's kernel; helper facts: ${info.helperFacts}. Click to change.` };
  }
  const ignored = setting !== '' ? ` The setting ebpfStudio.targetKernel "${setting}" is not a kernel version, so it is ignored.` : '';
  return {
    text: `$(versions) Kernel ${info.version}${ignored ? ' $(warning)' : ''}`,
    tooltip: `Static rules check against the running kernel (${info.runningRelease}); helper facts: ${info.helperFacts}.${ignored} Click to change.`,
  };
}

async function pickTargetKernel(studio: Studio): Promise<void> {
  const current = studio.settings().targetKernel;
  const items: KernelPick[] = [
    { label: `This machine (${majorMinor(os.release())})`, description: os.release(), version: '', picked: current === '' },
    { label: 'LTS kernels', kind: vscode.QuickPickItemKind.Separator },
    ...LTS_KERNELS.map((v) => ({ label: v, description: v === current ? 'current' : undefined, version: v })),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: 'Custom…', description: 'type any version' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Target kernel for the static rules', placeHolder: `Now: ${current || 'this machine'}` });
  if (!pick) return;
  let version = pick.version;
  if (version === undefined) {
    const typed = await vscode.window.showInputBox({ title: 'Target kernel version', value: current, placeHolder: '5.15', validateInput: validateKernelVersion });
    if (typed === undefined) return;
    version = typed.trim();
  }
  const scope = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('ebpfStudio').update('targetKernel', version, scope);
}

export function activate(studio: Studio): void {
  const item = vscode.window.createStatusBarItem('ebpfStudio.targetKernel', vscode.StatusBarAlignment.Right, 100);
  item.name = 'eBPF Target Kernel';
  item.command = 'ebpfStudio.selectTargetKernel';
  const show = ({ text, tooltip }: { text: string; tooltip: string }): void => {
    item.text = text;
    item.tooltip = tooltip;
  };
  let asked = 0;
  /** Shows the setting at once, then what the server says (asked after its configuration notification went out). */
  const render = (): void => {
    const setting = studio.settings().targetKernel;
    const question = ++asked;
    show(labelFromSetting(setting));
    setTimeout(() => {
      void studio.languageClient
        .then((client) => (client.isRunning() ? client.sendRequest(TargetKernelRequest) : undefined))
        .then(
          (info) => {
            if (info && question === asked) show(labelFromServer(info, studio.settings().targetKernel));
          },
          (error: unknown) => studio.log.warn(`target kernel request failed: ${error instanceof Error ? error.message : String(error)}`),
        );
    }, 0);
  };
  /** Shown while an eBPF probe is visible in any editor group (the output panel does not count). */
  const updateVisibility = (): void => {
    const probeVisible = vscode.window.visibleTextEditors.some(({ document: doc }) => doc.languageId === 'bpf-c' || doc.fileName.endsWith('.bpf.c'));
    if (probeVisible) item.show();
    else item.hide();
  };
  show(labelFromSetting(studio.settings().targetKernel));
  updateVisibility();
  void studio.languageClient.then((client) => {
    studio.context.subscriptions.push(client.onDidChangeState(() => client.isRunning() && render()));
    if (client.isRunning()) render();
  });
  studio.context.subscriptions.push(
    item,
    studio.onDidChangeSettings(render),
    vscode.window.onDidChangeVisibleTextEditors(updateVisibility),
    vscode.commands.registerCommand('ebpfStudio.selectTargetKernel', () => pickTargetKernel(studio)),
  );
}
