// Entry point of the extension: creates the Studio hub and activates each feature from the list
// below, timing activation and showing (never swallowing) any feature that fails to start.
import * as vscode from 'vscode';
import { Studio } from './studio';
import * as languageClient from './features/language-client';
import * as clangdClient from './features/clangd-client';
import * as targetKernelStatus from './features/target-kernel-status';
import * as targetHelperFacts from './features/target-helper-facts';
import * as targetOutput from './features/target-output';
import * as newProbeFromTemplate from './features/new-probe-from-template';
import * as sshConnector from './features/ssh-connector';
import * as kernelConnector from './features/kernel-connector';
import * as targetsTree from './features/targets-tree';
import * as targetSwitcher from './features/target-switcher';
import * as attachCommands from './features/attach-commands';
import * as attachWithParameters from './features/attach-with-parameters';
import * as attachCodeLens from './features/attach-code-lens';
import * as addSshTarget from './features/add-ssh-target';
import * as verifyOnSave from './features/verify-on-save';
import * as verifierCodeLens from './features/verifier-code-lens';
import * as verifierLogView from './features/verifier-log-view';
import * as verifierQuickFix from './features/verifier-quick-fix';
import * as liveViewPanels from './features/live-view-panels';
import * as checkThisMachine from './features/check-this-machine';

interface Feature {
  name: string;
  activate(studio: Studio): void | Promise<void>;
}

/** One line per feature; each file in features/ owns one capability. */
const features: Feature[] = [
  { name: 'language client', activate: languageClient.activate },
  { name: 'clangd', activate: clangdClient.activate },
  { name: 'target kernel status', activate: targetKernelStatus.activate },
  { name: 'target helper facts', activate: targetHelperFacts.activate },
  { name: 'target output', activate: targetOutput.activate },
  { name: 'new probe from template', activate: newProbeFromTemplate.activate },
  { name: 'SSH targets', activate: sshConnector.activate },
  { name: 'kernel targets', activate: kernelConnector.activate },
  { name: 'targets tree', activate: targetsTree.activate },
  { name: 'target switcher', activate: targetSwitcher.activate },
  { name: 'attach and detach', activate: attachCommands.activate },
  { name: 'attach with parameters', activate: attachWithParameters.activate },
  { name: 'attach code lens', activate: attachCodeLens.activate },
  { name: 'add SSH target', activate: addSshTarget.activate },
  { name: 'verify with kernel', activate: verifyOnSave.activate },
  { name: 'verifier code lens', activate: verifierCodeLens.activate },
  { name: 'verifier log view', activate: verifierLogView.activate },
  { name: 'verifier quick fixes', activate: verifierQuickFix.activate },
  { name: 'live view panels', activate: liveViewPanels.activate },
  { name: 'check this machine', activate: checkThisMachine.activate },
];

let studio: Studio | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<Studio> {
  const started = performance.now();
  studio = new Studio(context);
  const hub = studio;
  const failures: string[] = [];
  await Promise.all(
    features.map(async (feature) => {
      try {
        await feature.activate(hub);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push(feature.name);
        hub.log.appendLine(`[error] ${feature.name} failed to start: ${error instanceof Error ? error.stack ?? message : message}`);
        void vscode.window.showErrorMessage(`eBPF Studio: ${feature.name} failed to start: ${message}`, 'Show Log').then((choice) => {
          if (choice) hub.log.show(true);
        });
      }
    }),
  );
  const elapsed = performance.now() - started;
  hub.log.appendLine(
    `eBPF Studio ${context.extension.packageJSON.version} activated in ${elapsed.toFixed(1)} ms ` +
      `(${features.length - failures.length}/${features.length} features${failures.length ? `; failed: ${failures.join(', ')}` : ''})`,
  );
  return hub;
}

export async function deactivate(): Promise<void> {
  const hub = studio;
  studio = undefined;
  await hub?.dispose();
}
