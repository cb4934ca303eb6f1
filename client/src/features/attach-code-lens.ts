// CodeLenses above each program of a probe: "▶ Attach probe" loads and attaches every program of the file as one
// session, "Attach with parameters…" asks first, "Attach only <program>" attaches just that one; then, for each live
// session attached from the file, what that program is doing there. Asks the language server and TargetSessions.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { Studio } from '../studio';
import { planAttachLenses } from '../targets/attach-lenses';
import { planProgramStatusLenses, type AttachedSession } from '../targets/program-status-lenses';
import { onSessionSourceRecorded, sessionSource } from '../targets/session-sources';
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
    const attach = plans.map((plan) => {
      const range = new vscode.Range(plan.line, 0, plan.line, 0);
      return new vscode.CodeLens(range, {
        title: plan.title,
        tooltip: plan.tooltip,
        command: plan.command,
        arguments: plan.programs ? [document.uri, plan.programs] : [document.uri],
      });
    });
    const status = planProgramStatusLenses(programs, this.sessionsOf(document.uri)).map((lens) =>
      new vscode.CodeLens(new vscode.Range(lens.line, 0, lens.line, 0), { title: lens.title, tooltip: lens.tooltip, command: 'ebpfStudio.showTargetOutput', arguments: [lens.target] }),
    );
    return [...attach, ...status];
  }

  /** The live sessions attached from this file, on every target. */
  private sessionsOf(uri: vscode.Uri): AttachedSession[] {
    return this.studio.targets.states().flatMap((t) =>
      t.sessions.filter((s) => sessionSource(this.studio, t.name, s.session) === uri.fsPath).map((s) => ({ target: t.name, session: s.session, programs: s.programs })),
    );
  }
}

function subscribe(studio: Studio, listener: () => void): () => void {
  studio.targets.on('change', listener);
  const recorded = onSessionSourceRecorded(studio, listener);
  return () => {
    studio.targets.off('change', listener);
    recorded();
  };
}

export function activate(studio: Studio): void {
  const provider = new AttachLensProvider(studio);
  studio.context.subscriptions.push(
    vscode.languages.registerCodeLensProvider([{ language: 'bpf-c' }, { pattern: '**/*.bpf.c' }], provider),
    studio.onDidChangeTarget(() => provider.refresh()),
    // attach, detach and an agent's exit change what the status lenses say
    { dispose: subscribe(studio, () => provider.refresh()) },
  );
}
