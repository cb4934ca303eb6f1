// The editor checks that need the VS Code API, written once for any host: index.ts runs them in code-server
// (loaded through the workbench) and in desktop VS Code under @vscode/test-electron alike.
import * as vscode from 'vscode';
import type { CheckResult } from './check-contract';

export const EXTENSION_ID = 'ebpf-studio.ebpf-studio';
/** The source line (1-based text match) where the fixture dereferences the unchecked lookup. */
const UNCHECKED_DEREF = 'prev = *lastp;';

async function poll<T>(timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function describe(diagnostics: readonly vscode.Diagnostic[]): string {
  return diagnostics.map((d) => `${d.range.start.line + 1}: [${d.source ?? ''} ${String(typeof d.code === 'object' ? d.code.value : d.code ?? '')}] ${d.message}`).join(' | ') || 'none';
}

/** Runs every check against the fixture probe (unmodified: the null check still missing). */
export async function runApiChecks(probe: vscode.Uri): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const record = (name: string, ok: boolean, detail: string): void => {
    results.push({ name, ok, detail });
  };

  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  record('the extension is installed and active', extension?.isActive === true, extension ? `isActive=${extension.isActive}` : `${EXTENSION_ID} not installed`);

  const contributed = ((extension?.packageJSON as { contributes?: { commands?: { command: string }[] } })?.contributes?.commands ?? []).map((c) => c.command);
  const registered = new Set(await vscode.commands.getCommands(true));
  const unregistered = contributed.filter((c) => !registered.has(c));
  record('every contributed command is registered', contributed.length > 0 && unregistered.length === 0, unregistered.length ? `unregistered: ${unregistered.join(', ')}` : `${contributed.length} commands`);

  const document = await vscode.workspace.openTextDocument(probe);
  const derefLine = document.getText().split('\n').findIndex((l) => l.includes(UNCHECKED_DEREF));
  const nullCheck = await poll(20_000, () =>
    vscode.languages.getDiagnostics(probe).find((d) => /null/i.test(d.message) && Math.abs(d.range.start.line - derefLine) <= 1),
  );
  record(
    'a static diagnostic flags the unchecked map lookup',
    nullCheck !== undefined,
    nullCheck ? `line ${nullCheck.range.start.line + 1}: ${nullCheck.message}` : `expected near line ${derefLine + 1}; got ${describe(vscode.languages.getDiagnostics(probe))}`,
  );

  if (nullCheck) {
    const resolveUpTo = 10;
    const actions =
      (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', probe, nullCheck.range, vscode.CodeActionKind.QuickFix.value, resolveUpTo)) ?? [];
    const describeAction = (a: vscode.CodeAction): string => `${a.title} (kind ${a.kind?.value ?? '-'}, ${a.edit?.size ?? 0} edited files)`;
    const fix = actions.find((a) => /null/i.test(a.title) && a.edit !== undefined && a.edit.size > 0);
    record('a quick fix with an edit is offered for it', fix !== undefined, fix ? describeAction(fix) : `actions: ${actions.map(describeAction).join(', ') || 'none'}`);
  } else {
    record('a quick fix with an edit is offered for it', false, 'no diagnostic to fix');
  }

  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', probe, 100)) ?? [];
  const attach = lenses.filter((l) => /attach/i.test(l.command?.title ?? ''));
  record('an Attach code lens is shown', attach.length > 0, lenses.map((l) => l.command?.title ?? '(unresolved)').join(', ') || 'no code lenses');

  return results;
}
