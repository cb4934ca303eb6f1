// Quick fixes on kernel verifier diagnostics where tier 1 has one: finds the static rule's diagnostic for the same
// problem (e.g. nullable-pointer-unchecked for 'map_value_or_null') and offers that rule's fixes under the verifier's.
import * as vscode from 'vscode';
import type { Studio } from '../studio';

/** Verifier message family (diagnostic code) → the static rules that catch the same mistake. */
const RULES_BY_FAMILY: Record<string, string[]> = {
  'null-map-value': ['nullable-pointer-unchecked'],
  'uninitialized-stack': ['uninitialized-stack-memory'],
  'unbounded-access': ['unbounded-array-index', 'unbounded-helper-size'],
  'packet-bounds': ['packet-bounds-unchecked'],
  'unreleased-reference': ['reference-not-released'],
  'gpl-only': ['gpl-helper-non-gpl-license', 'license-missing'],
  'helper-not-allowed': ['helper-not-allowed', 'helper-newer-than-kernel'],
  'stack-too-big': ['stack-size-exceeded'],
  'too-complex': ['unbounded-loop'],
  'invalid-return': ['invalid-return-value'],
  'scalar-deref': ['direct-kernel-memory-read'],
};

function codeOf(diagnostic: vscode.Diagnostic): string | undefined {
  const code = diagnostic.code;
  if (code === undefined) return undefined;
  return String(typeof code === 'object' ? code.value : code);
}

class VerifierQuickFixes implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  /** Set while asking the other providers, so this provider does not answer its own question. */
  private asking = false;

  async provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    if (this.asking) return [];
    const verifierDiagnostics = context.diagnostics.filter((d) => d.source === 'verifier' && RULES_BY_FAMILY[codeOf(d) ?? '']);
    if (verifierDiagnostics.length === 0) return [];
    const staticDiagnostics = vscode.languages.getDiagnostics(document.uri).filter((d) => d.source !== 'verifier' && d.source !== 'clang');
    const actions: vscode.CodeAction[] = [];
    for (const verifier of verifierDiagnostics) {
      const rules = RULES_BY_FAMILY[codeOf(verifier) ?? ''];
      const candidates = staticDiagnostics
        .filter((d) => rules.includes(codeOf(d) ?? ''))
        .sort((a, b) => Math.abs(a.range.start.line - verifier.range.start.line) - Math.abs(b.range.start.line - verifier.range.start.line));
      const twin = candidates[0];
      if (!twin) continue;
      this.asking = true;
      let offered: (vscode.CodeAction | vscode.Command)[] | undefined;
      try {
        offered = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>('vscode.executeCodeActionProvider', document.uri, twin.range, vscode.CodeActionKind.QuickFix.value);
      } finally {
        this.asking = false;
      }
      for (const fix of offered ?? []) {
        if (!('edit' in fix || 'kind' in fix) || !(fix as vscode.CodeAction).diagnostics?.some((d) => codeOf(d) === codeOf(twin))) continue;
        const original = fix as vscode.CodeAction;
        const action = new vscode.CodeAction(`${original.title} (fixes the verifier's rejection)`, vscode.CodeActionKind.QuickFix);
        if (original.edit) action.edit = original.edit;
        if (original.command) action.command = original.command;
        action.diagnostics = [verifier];
        action.isPreferred = original.isPreferred ?? false;
        actions.push(action);
      }
    }
    return actions;
  }
}

export function activate(studio: Studio): void {
  studio.context.subscriptions.push(
    vscode.languages.registerCodeActionsProvider([{ language: 'bpf-c' }, { pattern: '**/*.bpf.c' }], new VerifierQuickFixes(), { providedCodeActionKinds: VerifierQuickFixes.kinds }),
  );
}
