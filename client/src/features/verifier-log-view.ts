// "Show Verifier Log": the kernel's log of one program as a read-only virtual document, source lines labelled
// and linked (click to jump), the failing path and the error highlighted. Reads the verification store.
import * as vscode from 'vscode';
import type { ProgramReport } from '../../../engine/verify/verify-probe';
import type { Studio } from '../studio';
import { verificationStore, type VerificationStore } from '../verify/verification-store';
import { programFigures, renderVerifierLog, type VerifierLogText } from '../verify/verifier-log-rendering';
import { VERIFIER_LOG_SCHEME, verifierLogUri } from '../verify/verifier-log-uri';

const SCHEME = VERIFIER_LOG_SCHEME;

interface RenderedLog extends VerifierLogText {
  uris: vscode.Uri[];
}

function levelOf(uri: vscode.Uri): 1 | 2 {
  return new URLSearchParams(uri.query).get('level') === '2' ? 2 : 1;
}

function render(sourcePath: string, program: ProgramReport, target: string): RenderedLog {
  const text = renderVerifierLog(sourcePath, program, target);
  return { ...text, uris: text.links.map((link) => vscode.Uri.file(link.path).with({ fragment: `L${link.sourceLine}` })) };
}

class VerifierLogDocuments implements vscode.TextDocumentContentProvider, vscode.DocumentLinkProvider, vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly rendered = new Map<string, RenderedLog>();
  /** Level-2 verdicts fetched on demand, by log document URI. */
  readonly detailed = new Map<string, ProgramReport>();

  constructor(private readonly store: VerificationStore) {}

  lookup(uri: vscode.Uri): { source: vscode.Uri; program: ProgramReport; target: string } | undefined {
    const query = new URLSearchParams(uri.query);
    const source = vscode.Uri.parse(query.get('source') ?? '');
    const stored = this.store.get(source);
    // A log of one of the extra kernels (ebpfStudio.verifyKernels) names it; the current target's does not.
    const kernel = query.get('target') ? stored?.kernels?.find((k) => k.target === query.get('target')) : undefined;
    const verified = kernel ?? stored;
    const program = levelOf(uri) === 2 ? this.detailed.get(uri.toString()) : verified?.result.programs.find((p) => p.name === query.get('program'));
    return verified && program ? { source, program, target: verified.target } : undefined;
  }

  renderedFor(uri: vscode.Uri): RenderedLog | undefined {
    let rendered = this.rendered.get(uri.toString());
    if (!rendered) {
      const found = this.lookup(uri);
      if (!found) return undefined;
      rendered = render(found.source.fsPath, found.program, found.target);
      this.rendered.set(uri.toString(), rendered);
    }
    return rendered;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const found = this.lookup(document.uri);
    if (!found || found.program.logLevel === 2) return [];
    return [
      new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
        title: 'Reload at log level 2 (the state after every instruction)',
        command: 'ebpfStudio.showVerifierLog',
        arguments: [found.source, found.program.name, 2],
      }),
    ];
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.renderedFor(uri)?.text ?? 'No verifier log for this program yet: run "eBPF: Verify with Kernel" on the file.';
  }

  provideDocumentLinks(document: vscode.TextDocument): vscode.DocumentLink[] {
    const rendered = this.renderedFor(document.uri);
    return (rendered?.links ?? []).map(({ line }, i) => {
      const link = new vscode.DocumentLink(document.lineAt(line).range, rendered?.uris[i]);
      link.tooltip = 'Go to the source line';
      return link;
    });
  }

  /** A new verification of a source re-renders its open logs. */
  sourceChanged(source: vscode.Uri): void {
    for (const key of [...this.rendered.keys()]) {
      const uri = vscode.Uri.parse(key);
      if (new URLSearchParams(uri.query).get('source') === source.toString()) {
        this.rendered.delete(key);
        if (levelOf(uri) === 2) this.detailed.delete(key);
        this.changed.fire(uri);
      }
    }
  }

  forget(uri: vscode.Uri): void {
    this.rendered.delete(uri.toString());
    this.detailed.delete(uri.toString());
  }
}

/** Verifies one program again at log level 2 on the target that produced the stored result. */
async function fetchLevel2(studio: Studio, target: string, object: Buffer | undefined, program: ProgramReport): Promise<ProgramReport | undefined> {
  if (!object) return undefined;
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Verifying ${program.name} at log level 2 on ${target}` }, async () => {
      const agent = await studio.connect(target);
      const [verdict] = (await agent.request('verify', { object: object.toString('base64'), programs: [program.name], logLevel: 2 }, { timeoutMs: 300_000 })).programs;
      return verdict ? { ...verdict, ...(program.declarationLine !== undefined ? { declarationLine: program.declarationLine } : {}), ...(program.failure ? { failure: program.failure } : {}) } : undefined;
    });
  } catch (err) {
    void vscode.window.showErrorMessage(`Verifier log at level 2 (${target}): ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

export function activate(studio: Studio): void {
  const store = verificationStore(studio.context);
  const documents = new VerifierLogDocuments(store);
  const pathDecoration = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
  });
  const errorDecoration = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('inputValidation.errorBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorError.foreground'),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
  });
  const decorate = (editor: vscode.TextEditor | undefined) => {
    if (editor?.document.uri.scheme !== SCHEME) return;
    const rendered = documents.renderedFor(editor.document.uri);
    const ranges = (lines: number[]) => lines.filter((l) => l < editor.document.lineCount).map((l) => new vscode.Range(l, 0, l, 0));
    editor.setDecorations(pathDecoration, ranges(rendered?.pathLines ?? []));
    editor.setDecorations(errorDecoration, ranges(rendered?.errorLines ?? []));
  };

  studio.context.subscriptions.push(
    pathDecoration,
    errorDecoration,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, documents),
    vscode.languages.registerDocumentLinkProvider({ scheme: SCHEME }, documents),
    vscode.languages.registerCodeLensProvider({ scheme: SCHEME }, documents),
    store.onDidChange((source) => documents.sourceChanged(source)),
    vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach(decorate)),
    vscode.workspace.onDidChangeTextDocument((e) => vscode.window.visibleTextEditors.filter((ed) => ed.document === e.document).forEach(decorate)),
    vscode.workspace.onDidCloseTextDocument((document) => document.uri.scheme === SCHEME && documents.forget(document.uri)),
    vscode.commands.registerCommand('ebpfStudio.showVerifierLog', async (uriArg?: unknown, programArg?: unknown, levelArg?: unknown) => {
      const source = uriArg instanceof vscode.Uri ? uriArg : vscode.window.activeTextEditor?.document.uri;
      if (!source || source.scheme !== 'file') {
        void vscode.window.showWarningMessage('Show Verifier Log works on an eBPF C file (*.bpf.c) that has been verified.');
        return;
      }
      if (!store.get(source)) await vscode.commands.executeCommand('ebpfStudio.verifyWithKernel', source);
      const stored = store.get(source);
      if (!stored || stored.result.programs.length === 0) {
        void vscode.window.showWarningMessage(`No verifier log for ${vscode.workspace.asRelativePath(source)}: ${stored ? `it ended with ${stored.result.verdict}` : 'verification did not finish'}.`);
        return;
      }
      let program = typeof programArg === 'string' ? stored.result.programs.find((p) => p.name === programArg) : undefined;
      if (!program && stored.result.programs.length === 1) program = stored.result.programs[0];
      if (!program) {
        const picked = await vscode.window.showQuickPick(
          stored.result.programs.map((p) => ({ label: p.name, description: p.section, detail: p.accepted ? `accepted · ${programFigures(p)}` : 'rejected', program: p })),
          { placeHolder: 'Which program\'s verifier log?' },
        );
        program = picked?.program;
      }
      if (!program) return;
      const level = levelArg === 2 ? 2 : 1;
      const uri = verifierLogUri(source, program.name, level);
      if (level === 2 && !documents.detailed.has(uri.toString())) {
        const detailed = await fetchLevel2(studio, stored.target, stored.result.object, program);
        if (!detailed) return;
        documents.detailed.set(uri.toString(), detailed);
      }
      const document = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
      decorate(editor);
      const failing = documents.renderedFor(document.uri)?.errorLines[0];
      if (failing !== undefined) editor.revealRange(new vscode.Range(failing, 0, failing, 0), vscode.TextEditorRevealType.InCenter);
    }),
  );
}
