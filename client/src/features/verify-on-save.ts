// Verify with Kernel: on save (ebpfStudio.verifyOnSave; skipped while clangd reports errors) and on command, compiles
// the probe and loads it through the current target's and each ebpfStudio.verifyKernels VM's verifier; results go to
// Problems through ConfirmedFindings.
import * as vscode from 'vscode';
import type { Diagnostic as LspDiagnostic } from 'vscode-languageserver-types';
import { KERNEL_TARGET_PREFIX } from '../../../engine/targets/target-address';
import { mergeRunDiagnostics, type MatrixDiagnosticData, type TargetRun } from '../../../engine/verify/verdict-matrix';
import { verifyProbe } from '../../../engine/verify/verify-probe';
import type { Studio } from '../studio';
import { clangDiagnostics, type ClangDiagnostics } from '../clangd/clang-diagnostics';
import { requestProbePrograms } from '../targets/probe-programs';
import { confirmedFindings, type ConfirmedFindings } from '../verify/confirmed-findings';
import { verificationStore, type VerificationStore } from '../verify/verification-store';
import { verifierLogUri } from '../verify/verifier-log-uri';

/** How long a save waits for clangd to check the text as saved. */
const CLANGD_WAIT_MS = 5_000;

const SEVERITY: Record<number, vscode.DiagnosticSeverity> = {
  1: vscode.DiagnosticSeverity.Error,
  2: vscode.DiagnosticSeverity.Warning,
  3: vscode.DiagnosticSeverity.Information,
  4: vscode.DiagnosticSeverity.Hint,
};

function toRange(r: LspDiagnostic['range']): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

/**
 * The kernel's diagnostic for Problems: related lines about other places stay (where a reference was acquired);
 * the failing instruction, register state and libbpf lines go behind one link to the verifier log view.
 */
function toVscodeDiagnostic(d: LspDiagnostic, source: vscode.Uri): vscode.Diagnostic {
  const diagnostic = new vscode.Diagnostic(toRange(d.range), typeof d.message === 'string' ? d.message : d.message.value, SEVERITY[d.severity ?? 1]);
  diagnostic.source = d.source ?? 'verifier';
  if (d.code !== undefined) diagnostic.code = d.code;
  const related = d.relatedInformation ?? [];
  const here = (r: (typeof related)[number]) => r.location.range.start.line === d.range.start.line;
  const elsewhere = related.filter((r) => !here(r)).map((r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.parse(r.location.uri), toRange(r.location.range)), r.message));
  const program = (d.data as { program?: unknown } | undefined)?.program;
  const state = related.filter(here).length;
  if (state > 0 && typeof program === 'string') {
    elsewhere.unshift(new vscode.DiagnosticRelatedInformation(new vscode.Location(verifierLogUri(source, program, 1), new vscode.Position(0, 0)), `show verifier state (${state} lines: failing instruction, registers, libbpf)`));
  }
  if (elsewhere.length) diagnostic.relatedInformation = elsewhere;
  return diagnostic;
}

/** Links "6.1: <message>" to that kernel's verifier log of the program rejected on the diagnostic's line. */
function withKernelLogLinks(diagnostic: vscode.Diagnostic, lsp: LspDiagnostic, source: vscode.Uri, runs: TargetRun[]): vscode.Diagnostic {
  const data = lsp.data as MatrixDiagnosticData | undefined;
  if (!data?.rejectedBy || runs.length < 2) return diagnostic;
  const links = data.rejectedBy.flatMap((rejection) => {
    const run = runs.find((r) => r.target === rejection.target);
    const program = run?.result.programs.find((p) => p.failure?.line === lsp.range.start.line) ?? run?.result.programs.find((p) => !p.accepted);
    if (!program) return [];
    const log = verifierLogUri(source, program.name, 1, rejection.target === runs[0].target ? undefined : rejection.target);
    return [new vscode.DiagnosticRelatedInformation(new vscode.Location(log, new vscode.Position(0, 0)), `${rejection.label} (${rejection.target}): ${rejection.message.split('\n')[0]} (open its verifier log)`)];
  });
  diagnostic.relatedInformation = [...links, ...(diagnostic.relatedInformation ?? [])];
  return diagnostic;
}

export function isProbeDocument(document: vscode.TextDocument): boolean {
  return document.uri.scheme === 'file' && (document.languageId === 'bpf-c' || document.fileName.endsWith('.bpf.c'));
}

class KernelVerifier {
  /** Files each source's last result put diagnostics on (headers included), to clear them next time. */
  private readonly touched = new Map<string, vscode.Uri[]>();
  private readonly running = new Map<string, { run: Promise<void>; version: number }>();
  private readonly rerun = new Set<string>();
  private lastError: string | undefined;
  private active = 0;

  constructor(
    private readonly studio: Studio,
    private readonly store: VerificationStore,
    private readonly problems: ConfirmedFindings,
    private readonly clangd: ClangDiagnostics,
  ) {}

  /**
   * Verify on save, once clangd has checked the saved text: not while it reports errors (half-typed code that
   * clang would refuse anyway; clangd already shows them). Without clangd, every save verifies.
   */
  async verifySaved(document: vscode.TextDocument): Promise<void> {
    const errors = await this.clangd.currentErrors(document.uri, CLANGD_WAIT_MS);
    if (errors?.length) {
      this.studio.output(this.studio.currentTarget()).appendLine(`[${new Date().toISOString()}] not verifying ${document.uri.fsPath} on save: clang reports ${errors.length} error(s) (line ${errors[0].range.start.line + 1}: ${errors[0].message})`);
      return;
    }
    await this.verify(document, false);
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
        const programs = await requestProbePrograms(this.studio, document.uri);
        const verifyOn = async (name: string): Promise<TargetRun> => {
          const out = this.studio.output(name);
          if (userAsked) this.studio.sudoQuestions.allow(name);
          const agent = await this.studio.connect(name);
          out.appendLine(`[${new Date().toISOString()}] verify ${document.uri.fsPath}`);
          const verified = await verifyProbe({
            sourcePath: document.uri.fsPath,
            programs,
            agent,
            includePaths: settings.includePaths,
            clangPath: settings.clangPath,
            onProgress: (line) => out.appendLine(`  ${line}`),
          });
          out.appendLine(`  ${verified.verdict} in ${verified.timings.totalMs} ms (compile ${verified.timings.compileMs}, verify ${verified.timings.verifyMs}, vmlinux.h ${verified.timings.vmlinuxMs})`);
          return { target: name, result: verified };
        };
        // ebpfStudio.verifyKernels: the same probe on each listed kernel's VM (booted once, then kept warm), in parallel.
        const kernels = settings.verifyKernels.map((k) => `${KERNEL_TARGET_PREFIX}${k}`).filter((name) => name !== targetName);
        const [current, ...others] = await Promise.allSettled([targetName, ...kernels].map(verifyOn));
        if (current.status === 'rejected') throw current.reason;
        const result = current.value.result;
        const kernelRuns = others.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
        const failed = others.flatMap((o, i) => (o.status === 'rejected' ? [`${kernels[i]}: ${o.reason instanceof Error ? o.reason.message : String(o.reason)}`] : []));
        if (failed.length) void vscode.window.showErrorMessage(`Verify with Kernel: ${failed.join('; ')}`);
        const runs = [current.value, ...kernelRuns];
        this.publish(document.uri, runs.length > 1 ? mergeRunDiagnostics(runs) : result.diagnostics, runs);
        this.store.set(document.uri, { result, target: targetName, version, finishedAt: new Date(), kernels: kernelRuns });
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

  /**
   * Replaces the diagnostics this source produced last time (on it and on any header) with the new ones; with
   * several kernels, each rejecting kernel's verifier log is a related-information link on the diagnostic; clang's
   * messages that clangd already shows are left out.
   */
  private publish(source: vscode.Uri, byFile: Map<string, LspDiagnostic[]>, runs: TargetRun[]): void {
    const target = runs[0].target;
    for (const uri of this.touched.get(source.toString()) ?? []) this.problems.rejectionsReceived(uri, [], target);
    const uris: vscode.Uri[] = [source];
    this.problems.rejectionsReceived(source, [], target);
    for (const [path, diagnostics] of byFile) {
      const uri = vscode.Uri.file(path);
      const shownByClangd = this.clangd.all(uri);
      const fresh = diagnostics.filter((d) => d.source !== 'clang' || !shownByClangd.some((c) => c.range.start.line === d.range.start.line && c.message === d.message));
      this.problems.rejectionsReceived(uri, fresh.map((d) => withKernelLogLinks(toVscodeDiagnostic(d, source), d, source, runs)), target);
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
  const verifier = new KernelVerifier(studio, verificationStore(studio.context), confirmedFindings(studio.context), clangDiagnostics(studio.context));
  studio.context.subscriptions.push(
    vscode.workspace.onDidSaveTextDocument((document) => {
      // Restricted Mode: a folder not yet trusted gets static checks only; nothing it holds is compiled or loaded unasked.
      if (isProbeDocument(document) && vscode.workspace.isTrusted && studio.settings(document.uri).verifyOnSave) void verifier.verifySaved(document);
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
