// Starts the eBPF language server (dist/server.js over IPC) for bpf-c documents and *.bpf.c files, passes it the
// ebpfStudio.* settings, restarts it when it crashes; its findings merge with kernel verdicts, rule pages render.
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, LanguageClient, RevealOutputChannelOn, TransportKind } from 'vscode-languageclient/node';
import type { CloseHandlerResult, ErrorHandler, LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import type { Studio } from '../studio';
import { confirmedFindings } from '../verify/confirmed-findings';

/** More crashes than this within the window stops the automatic restarts. */
const MAX_CRASHES = 5;
const CRASH_WINDOW_MS = 3 * 60 * 1000;

export const documentSelector = [
  { scheme: 'file', language: 'bpf-c' },
  { scheme: 'untitled', language: 'bpf-c' },
  { scheme: 'file', language: 'c', pattern: '**/*.bpf.c' },
];

/** Restarts the server after each crash unless it crashes MAX_CRASHES times within CRASH_WINDOW_MS. */
export function crashRestartPolicy(log: vscode.OutputChannel, now: () => number = Date.now): ErrorHandler {
  const crashes: number[] = [];
  return {
    error: (error, _message, count) => {
      log.appendLine(`[language server] connection error: ${error.message}`);
      return { action: (count ?? 1) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
    },
    closed: (): CloseHandlerResult => {
      const time = now();
      crashes.push(time);
      while (crashes.length > 0 && time - crashes[0] > CRASH_WINDOW_MS) crashes.shift();
      if (crashes.length >= MAX_CRASHES) {
        return {
          action: CloseAction.DoNotRestart,
          message: `The eBPF language server stopped ${MAX_CRASHES} times in 3 minutes and will not be restarted. See the 'eBPF Studio' output; run "Developer: Reload Window" to try again.`,
        };
      }
      log.appendLine(`[language server] stopped unexpectedly; restarting (${crashes.length} in the last 3 minutes)`);
      return { action: CloseAction.Restart, handled: true };
    },
  };
}

/** A rule page (file:…/docs/rules/<id>.md) opens as rendered markdown, not as its source. */
export function renderedRuleLink(diagnostic: vscode.Diagnostic): vscode.Diagnostic {
  const code = diagnostic.code;
  if (typeof code === 'object' && code.target.scheme === 'file' && code.target.path.endsWith('.md')) {
    const preview = vscode.Uri.parse(`command:markdown.showPreview?${encodeURIComponent(JSON.stringify([code.target]))}`);
    diagnostic.code = { value: code.value, target: preview };
  }
  return diagnostic;
}

export function activate(studio: Studio): void {
  const findings = confirmedFindings(studio.context);
  const serverModule = studio.context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6010'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector,
    outputChannel: studio.log,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: { settings: studio.settings() },
    synchronize: { configurationSection: 'ebpfStudio' },
    errorHandler: crashRestartPolicy(studio.log),
    middleware: {
      handleDiagnostics: (uri, diagnostics, next) => findings.findingsReceived(uri, diagnostics.map(renderedRuleLink), next),
    },
  };
  const client = new LanguageClient('ebpfStudio', 'eBPF Language Server', serverOptions, clientOptions);
  studio.provideLanguageClient(client);
  client.start().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    studio.log.appendLine(`[language server] failed to start: ${message}`);
    void vscode.window.showErrorMessage(`eBPF Studio: the language server failed to start: ${message}`);
  });
}
