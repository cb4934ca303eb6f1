// Verify with Kernel: on save (ebpfStudio.verifyOnSave) and on command, compiles the probe and loads it through
// the current target's verifier; results replace that file's diagnostics in the 'ebpf-verifier' collection.
import * as vscode from 'vscode';
import type { Diagnostic as LspDiagnostic } from 'vscode-languageserver-types';
import { verifyProbe } from '../../../engine/verify/verify-probe';
import type { Studio } from '../studio';
import { verificationStore, type VerificationStore } from '../verify/verification-store';

const SEVERITY: Record<number, vscode.DiagnosticSeverity> = {
  1: vscode.DiagnosticSeverity.Error,
  2: vscode.DiagnosticSeverity.Warning,
  3: vscode.DiagnosticSeverity.Information,
  4: vscode.DiagnosticSeverity.Hint,
};

function toRange(r: LspDiagnostic['range']): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

function toVscodeDiagnostic(d: LspDiagnostic): vscode.Diagnostic {
  const diagnostic = new vscode.Diagnostic(toRange(d.range), typeof d.message === 'string' ? d.message : d.message.value, SEVERITY[d.severity ?? 1]);
  diagnostic.source = d.source ?? 'verifier';
  if (d.code !== undefined) diagnostic.code = d.code;
  diagnostic.relatedInformation = d.relatedInformation?.map((r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.parse(r.location.uri), toRange(r.location.range)), r.message));
  return diagnostic;
}

export function isProbeDocument(document: vscode.TextDocument): boolean {
  return document.uri.scheme === 'file' && (document.languageId === 'bpf-c' || document.fileName.endsWith('.bpf.c'));
}

class KernelVerifier {
  private readonly collection = vscode.languages.createDiagnosticCollection('ebpf-verifier');
  /** Files each source's last result put diagnostics on (headers included), to clear them next time. */
  private readonly touched = new Map<string, vscode.Uri[]>();
  private readonly running = new Map<string, { run: Promise<void>; version: number }>();
  private readonly rerun = new Set<string>();
  private lastError: string | undefined;
  private active = 0;

  constructor(
    private readonly studio: Studio,
    private readonly store: VerificationStore,
  ) {}

  dispose(): void {
    this.collection.dispose();
  }

  /** Verifies a saved document; a request for a newer version while one runs queues one more run. */
  verify(document: vscode.TextDocument, userAsked: boolean): Promise<void> {
    const key = document.uri.toString();
    const current = this.running.get(key);
    if (current) {
      if (current.version !== document.version) this.rerun.add(key);
      return current.run;
    }
    const run = this.runOnce(document, userAsked).finally(() => {
      this.running.delete(key);
      if (this.rerun.delete(key)) void this.verify(document, userAsked);
    });
    this.running.set(key, { run, version: document.version });
    return run;
  }

  private async runOnce(document: vscode.TextDocument, userAsked: boolean): Promise<void> {
    const targetName = this.studio.currentTarget();
    const output = this.studio.output(targetName);
    const settings = this.studio.settings(document.uri);
    const version = document.version;
    this.setVerifying(+1);
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Verifying ${vscode.workspace.asRelativePath(document.uri)} on ${targetName}` }, async () => {
        const agent = await this.studio.connect(targetName);
        output.appendLine(`[${new Date().toISOString()}] verify ${document.uri.fsPath}`);
        const result = await verifyProbe({
          sourcePath: document.uri.fsPath,
          agent,
          includePaths: settings.includePaths,
          clangPath: settings.clangPath,
          onProgress: (line) => output.appendLine(`  ${line}`),
        });
        output.appendLine(`  ${result.verdict} in ${result.timings.totalMs} ms (compile ${result.timings.compileMs}, verify ${result.timings.verifyMs}, vmlinux.h ${result.timings.vmlinuxMs})`);
        this.publish(document.uri, result.diagnostics);
        this.store.set(document.uri, { result, target: targetName, version, finishedAt: new Date() });
        this.lastError = undefined;
        if (userAsked) {
          const rejected = result.programs.filter((p) => !p.accepted).length;
          void vscode.window.setStatusBarMessage(
            result.verdict === 'accepted' ? `$(pass) ${targetName}'s verifier accepted all ${result.programs.length} programs` : result.verdict === 'rejected' ? `$(error) ${targetName}'s verifier rejected ${rejected} of ${result.programs.length} programs` : `$(error) ${result.verdict}`,
            5000,
          );
        }
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      output.appendLine(`  failed: ${message}`);
      // On save, the same failure (no clang, sudo refused, host down) is shown once, not on every save.
      if (userAsked || message !== this.lastError) {
        void vscode.window.showErrorMessage(`Verify with Kernel (${targetName}): ${message}`, 'Show Output').then((choice) => {
          if (choice) output.show(true);
        });
      }
      this.lastError = message;
    } finally {
      this.setVerifying(-1);
    }
  }

  /** Replaces the diagnostics this source produced last time (on it and on any header) with the new ones. */
  private publish(source: vscode.Uri, byFile: Map<string, LspDiagnostic[]>): void {
    for (const uri of this.touched.get(source.toString()) ?? []) this.collection.delete(uri);
    const uris: vscode.Uri[] = [source];
    this.collection.set(source, []);
    for (const [path, diagnostics] of byFile) {
      const uri = vscode.Uri.file(path);
      this.collection.set(uri, diagnostics.map(toVscodeDiagnostic));
      uris.push(uri);
    }
    this.touched.set(source.toString(), uris);
  }

  private setVerifying(delta: number): void {
    this.active += delta;
    void vscode.commands.executeCommand('setContext', 'ebpfStudio.verifying', this.active > 0);
  }
}

export function activate(studio: Studio): void {
  const verifier = new KernelVerifier(studio, verificationStore(studio.context));
  studio.context.subscriptions.push(
    verifier,
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (isProbeDocument(document) && studio.settings(document.uri).verifyOnSave) void verifier.verify(document, false);
    }),
    vscode.commands.registerCommand('ebpfStudio.verifyWithKernel', async (uri?: vscode.Uri) => {
      const document = uri instanceof vscode.Uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
      if (!document || !isProbeDocument(document)) {
        void vscode.window.showWarningMessage('Verify with Kernel works on a saved eBPF C file (*.bpf.c).');
        return;
      }
      // The compile reads the file from disk: save first (the save itself does not verify twice).
      if (document.isDirty && !(await document.save())) return;
      await verifier.verify(document, true);
    }),
  );
}
