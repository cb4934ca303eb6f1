// CodeLens above each verified program with the kernel's figures (instructions processed of the 1,000,000 limit,
// stack depth, verification time) or where it was rejected; clicking opens the verifier log. Reads the store.
import * as vscode from 'vscode';
import type { Studio } from '../studio';
import { verificationStore, type VerificationStore } from '../verify/verification-store';
import { programFigures } from '../verify/verifier-log-rendering';

class VerifierLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly store: VerificationStore) {}

  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const stored = this.store.get(document.uri);
    if (!stored) return [];
    const stale = stored.version !== document.version ? ' (before your last edits)' : '';
    return stored.result.programs
      .filter((program) => program.declarationLine !== undefined && program.declarationLine < document.lineCount)
      .map((program) => {
        const line = program.declarationLine as number;
        const title = program.accepted
          ? `$(pass) verifier on ${stored.target}: ${programFigures(program)}${stale}`
          : `$(error) rejected by ${stored.target}'s verifier${program.failure ? ` at line ${program.failure.line + 1}` : ''}${stale}`;
        return new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
          title,
          tooltip: `${program.name} (${program.section}): show the verifier log`,
          command: 'ebpfStudio.showVerifierLog',
          arguments: [document.uri, program.name],
        });
      });
  }
}

export function activate(studio: Studio): void {
  const store = verificationStore(studio.context);
  const provider = new VerifierLensProvider(store);
  studio.context.subscriptions.push(
    vscode.languages.registerCodeLensProvider([{ language: 'bpf-c' }, { pattern: '**/*.bpf.c' }], provider),
    store.onDidChange(() => provider.refresh()),
  );
}
