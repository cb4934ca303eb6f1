// clangd's diagnostics of each probe: what it last published, held back on the line being typed and the next (a
// half-typed call's missing ';' lands there) until the cursor leaves it; whether the text now has clang errors.
import * as vscode from 'vscode';
import { perContext } from '../context-singleton';

type Publish = (uri: vscode.Uri, diagnostics: vscode.Diagnostic[]) => void;

interface Published {
  diagnostics: vscode.Diagnostic[];
  /** Date.now() when clangd published them. */
  at: number;
  publish: Publish;
}

export class ClangDiagnostics implements vscode.Disposable {
  /** True while clangd serves probes (set by the clangd client). */
  running = false;
  private readonly published = new Map<string, Published>();
  private readonly editedAt = new Map<string, number>();
  /** The line of the last edit of each document, while the cursor is still on it. */
  private readonly typingLine = new Map<string, number>();
  private readonly arrived = new vscode.EventEmitter<string>();
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      this.arrived,
      vscode.workspace.onDidChangeTextDocument((e) => {
        const change = e.contentChanges.at(-1);
        if (!change || e.document.languageId !== 'bpf-c') return;
        const key = e.document.uri.toString();
        this.editedAt.set(key, Date.now());
        // a line break typed or pasted ends the line: what it holds is no longer being typed
        if (change.text.includes('\n')) this.typingLine.delete(key);
        else this.typingLine.set(key, change.range.start.line);
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        const key = e.textEditor.document.uri.toString();
        const line = this.typingLine.get(key);
        if (line === undefined || e.selections.some((s) => s.active.line === line)) return;
        this.typingLine.delete(key);
        this.show(e.textEditor.document.uri);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        const key = document.uri.toString();
        this.published.delete(key);
        this.editedAt.delete(key);
        this.typingLine.delete(key);
      }),
    ];
  }

  /** clangd published `diagnostics`; `publish` puts a list into its collection (the client's own handler). */
  received(uri: vscode.Uri, diagnostics: vscode.Diagnostic[], publish: Publish): void {
    const key = uri.toString();
    this.published.set(key, { diagnostics, at: Date.now(), publish });
    this.show(uri);
    this.arrived.fire(key);
  }

  private show(uri: vscode.Uri): void {
    const entry = this.published.get(uri.toString());
    if (!entry) return;
    const line = this.typingLine.get(uri.toString());
    const typed = (d: vscode.Diagnostic) => line !== undefined && d.range.start.line >= line && d.range.start.line <= line + 1;
    entry.publish(uri, entry.diagnostics.filter((d) => !typed(d)));
  }

  /** Everything clangd last said about a document, held-back lines included. */
  all(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.published.get(uri.toString())?.diagnostics ?? [];
  }

  /**
   * clangd's errors for the document as it is now: waits (up to `timeoutMs`) for a publication newer than the
   * last edit. Undefined when clangd is not running or did not answer in time.
   */
  async currentErrors(uri: vscode.Uri, timeoutMs: number): Promise<vscode.Diagnostic[] | undefined> {
    if (!this.running) return undefined;
    const key = uri.toString();
    const fresh = () => {
      const entry = this.published.get(key);
      return entry && entry.at >= (this.editedAt.get(key) ?? 0) ? entry : undefined;
    };
    let entry = fresh();
    if (!entry) {
      entry = await new Promise<Published | undefined>((resolve) => {
        const timer = setTimeout(() => done(undefined), timeoutMs);
        const listener = this.arrived.event((arrivedKey) => {
          if (arrivedKey === key && fresh()) done(fresh());
        });
        const done = (value: Published | undefined) => {
          clearTimeout(timer);
          listener.dispose();
          resolve(value);
        };
      });
    }
    return entry?.diagnostics.filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
    this.published.clear();
  }
}

/** The one store of an extension context (created on first use, disposed with the context). */
export const clangDiagnostics = perContext(() => new ClangDiagnostics());
