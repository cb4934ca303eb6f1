// One Problems entry per problem: when the kernel verifier rejects a line the static rules already flagged, the
// static diagnostic says both and the kernel's own entry is left out. Fed by the language client and verify-on-save.
import * as vscode from 'vscode';
import { perContext } from '../context-singleton';

type Publish = (uri: vscode.Uri, diagnostics: vscode.Diagnostic[]) => void;

/** A static finding on the same line as a kernel rejection, saying both; the rule link and quick fixes stay. */
export function confirmedDiagnostic(finding: vscode.Diagnostic, kernel: vscode.Diagnostic, target: string): vscode.Diagnostic {
  // A copy of the same class: the language client only hands its own diagnostic objects' `data` (the rule id and
  // its fix) back to the server, so the quick fix stays offered on the merged entry.
  return Object.assign(Object.create(Object.getPrototypeOf(finding) as object) as vscode.Diagnostic, finding, {
    message: `${finding.message}\nConfirmed by ${target}'s kernel verifier: ${kernel.message}`,
    severity: vscode.DiagnosticSeverity.Error,
    relatedInformation: [...(finding.relatedInformation ?? []), ...(kernel.relatedInformation ?? [])],
  });
}

export class ConfirmedFindings implements vscode.Disposable {
  private readonly findings = new Map<string, { diagnostics: vscode.Diagnostic[]; publish: Publish }>();
  private readonly rejections = new Map<string, { diagnostics: vscode.Diagnostic[]; target: string }>();

  constructor(
    private readonly publishRejections: Publish,
    private readonly owned?: vscode.Disposable,
  ) {}

  dispose(): void {
    this.owned?.dispose();
    this.findings.clear();
    this.rejections.clear();
  }

  /** The language server published its static findings for `uri`; `publish` shows a list in its collection. */
  findingsReceived(uri: vscode.Uri, diagnostics: vscode.Diagnostic[], publish: Publish): void {
    this.findings.set(uri.toString(), { diagnostics, publish });
    this.render(uri);
  }

  /** A kernel verification of `target` produced these diagnostics on `uri` (none: it has nothing to say there). */
  rejectionsReceived(uri: vscode.Uri, diagnostics: vscode.Diagnostic[], target: string): void {
    this.rejections.set(uri.toString(), { diagnostics, target });
    this.render(uri);
  }

  private render(uri: vscode.Uri): void {
    const findings = this.findings.get(uri.toString());
    const rejections = this.rejections.get(uri.toString());
    const confirmed = new Set<vscode.Diagnostic>();
    const shown = (findings?.diagnostics ?? []).map((finding) => {
      if (!rejections || finding.severity > vscode.DiagnosticSeverity.Warning) return finding;
      const kernel = rejections.diagnostics.find((k) => !confirmed.has(k) && k.range.start.line === finding.range.start.line);
      if (!kernel) return finding;
      confirmed.add(kernel);
      return confirmedDiagnostic(finding, kernel, rejections.target);
    });
    findings?.publish(uri, shown);
    if (rejections) this.publishRejections(uri, rejections.diagnostics.filter((k) => !confirmed.has(k)));
  }
}

/** The one merger of an extension context; its kernel entries go to the 'ebpf-verifier' collection. */
export const confirmedFindings = perContext(() => {
  const collection = vscode.languages.createDiagnosticCollection('ebpf-verifier');
  return new ConfirmedFindings((uri, diagnostics) => collection.set(uri, diagnostics), collection);
});
