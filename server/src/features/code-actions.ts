// Code actions: each ebpf-studio diagnostic's quick fix, carried in the diagnostic's data by the
// rule engine, offered as a preferred quickfix (so no server-side state is needed).
import { CodeActionKind, type CodeAction, type Diagnostic } from 'vscode-languageserver-types';
import { DIAGNOSTIC_SOURCE, type DiagnosticData } from '../rules/rule-engine';

function isDiagnosticData(data: unknown): data is DiagnosticData {
  return typeof data === 'object' && data != null && typeof (data as DiagnosticData).ruleId === 'string';
}

export function quickFixes(uri: string, diagnostics: readonly Diagnostic[]): CodeAction[] {
  return diagnostics.flatMap((diagnostic) => {
    if (diagnostic.source !== DIAGNOSTIC_SOURCE || !isDiagnosticData(diagnostic.data) || !diagnostic.data.fix) return [];
    const fix = diagnostic.data.fix;
    if (!Array.isArray(fix.edits) || typeof fix.title !== 'string') return [];
    return [{ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: true, edit: { changes: { [uri]: fix.edits } } }];
  });
}
