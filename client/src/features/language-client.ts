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

const SHOW_RULE_PAGE = 'ebpfStudio.showRulePage';

/**
 * A rule page (file:…/docs/rules/<id>.md) opens as rendered markdown, not as its source: the link runs our command with
 * the rule id (a string: a file URI in a command link reaches the extension host remapped under code-server, and
 * the preview then reports the page "cannot be found").
 */
export function renderedRuleLink(diagnostic: vscode.Diagnostic): vscode.Diagnostic {
  const code = diagnostic.code;
  if (typeof code === 'object' && code.target.scheme === 'file' && /\/docs\/rules\/[\w-]+\.md$/.test(code.target.path)) {
    const ruleId = code.target.path.slice(code.target.path.lastIndexOf('/') + 1, -'.md'.length);
    diagnostic.code = { value: code.value, target: vscode.Uri.parse(`command:${SHOW_RULE_PAGE}?${encodeURIComponent(JSON.stringify([ruleId]))}`) };
  }
  return diagnostic;
}

/** Shows docs/rules/<id>.md of the installed extension in the markdown preview. */
async function showRulePage(studio: Studio, ruleId: unknown): Promise<void> {
  if (typeof ruleId !== 'string' || !/^[\w-]+$/.test(ruleId)) return;
  const page = vscode.Uri.file(studio.context.asAbsolutePath(`docs/rules/${ruleId}.md`));
  try {
    await vscode.workspace.fs.stat(page);
  } catch {
    void vscode.window.showWarningMessage(`eBPF Studio: there is no page for the rule ${ruleId} in this installation.`);
    return;
  }
  await vscode.commands.executeCommand('markdown.showPreview', page);
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
  studio.context.subscriptions.push(vscode.commands.registerCommand(SHOW_RULE_PAGE, (ruleId: unknown) => showRulePage(studio, ruleId)));
  const client = new LanguageClient('ebpfStudio', 'eBPF Language Server', serverOptions, clientOptions);
  studio.provideLanguageClient(client);
  client.start().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    studio.log.appendLine(`[language server] failed to start: ${message}`);
    void vscode.window.showErrorMessage(`eBPF Studio: the language server failed to start: ${message}`);
  });
}
