// CodeLenses above each program of a probe: "▶ Attach probe" loads and attaches every program of the file as one
// session, "Attach with parameters…" asks first, "Attach only <program>" attaches just that one. Asks the language server.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { Studio } from '../studio';
import { planAttachLenses } from '../targets/attach-lenses';
import { requestProbePrograms } from '../targets/probe-programs';

class AttachLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly studio: Studio) {}

  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    let programs;
    try {
      programs = await requestProbePrograms(this.studio, document.uri);
    } catch (error) {
      this.studio.log.warn(`attach lenses for ${document.uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
    const plans = planAttachLenses(programs, basename(document.uri.path), this.studio.currentTarget());
    return plans.map((plan) => {
      const range = new vscode.Range(plan.line, 0, plan.line, 0);
      return new vscode.CodeLens(range, {
        title: plan.title,
        tooltip: plan.tooltip,
        command: plan.command,
        arguments: plan.programs ? [document.uri, plan.programs] : [document.uri],
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
