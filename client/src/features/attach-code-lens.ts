// CodeLens "▶ Attach" above each program of a probe: attaches just that program to the current target (through
// the ebpfStudio.attachProbe command). Reads the document text only.
import * as vscode from 'vscode';
import type { Studio } from '../studio';
import { findProbePrograms } from '../targets/probe-programs';

class AttachLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly studio: Studio) {}

  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const target = this.studio.currentTarget();
    return findProbePrograms(document.getText()).map((program) => {
      const range = new vscode.Range(program.line, 0, program.line, 0);
      return new vscode.CodeLens(range, {
        title: '▶ Attach',
        tooltip: `Load and attach ${program.name} (${program.section}) on ${target}`,
        command: 'ebpfStudio.attachProbe',
        arguments: [document.uri, program.name],
      });
    });
  }
}

export function activate(studio: Studio): void {
  const provider = new AttachLensProvider(studio);
  studio.context.subscriptions.push(
    vscode.languages.registerCodeLensProvider([{ language: 'bpf-c' }, { pattern: '**/*.bpf.c' }], provider),
    studio.onDidChangeTarget(() => provider.refresh()),
  );
}
