// CodeLens above each verified program with the kernel's figures (instructions processed of the 1,000,000 limit,
// stack depth, verification time) or where it was rejected; clicking opens the verifier log. Reads the store.
import * as vscode from 'vscode';
import type { ProgramReport } from '../../../engine/verify/verify-probe';
import type { Studio } from '../studio';
import { verificationStore, type VerificationStore } from '../verify/verification-store';

const INSN_LIMIT = 1_000_000;

/** "21 of 1,000,000 insns (0.0%) · stack 16 B · 73 µs" */
export function programFigures(program: ProgramReport): string {
  const parts: string[] = [];
  if (program.insnsProcessed !== undefined) {
    const share = (program.insnsProcessed / INSN_LIMIT) * 100;
    parts.push(`${program.insnsProcessed.toLocaleString('en-US')} of ${INSN_LIMIT.toLocaleString('en-US')} insns (${share < 0.1 ? share.toFixed(2) : share.toFixed(1)}%)`);
  }
  if (program.stackDepth?.length) parts.push(`stack ${program.stackDepth.reduce((a, b) => a + b, 0)} B${program.stackDepth.length > 1 ? ` (${program.stackDepth.join('+')})` : ''} of 512`);
  if (program.verificationTimeUs !== undefined) parts.push(program.verificationTimeUs >= 10_000 ? `${(program.verificationTimeUs / 1000).toFixed(0)} ms` : `${program.verificationTimeUs} µs`);
  return parts.join(' · ');
}

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
