// clangd underneath bpf-c documents: the distribution's clangd (found like clang) gets each probe's compile
// command (eBPF Studio's flags unless the user's compile_commands.json lists it); helpers are left to our server.
import * as os from 'node:os';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, RevealOutputChannelOn, State, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { databaseLists, governingCompilationDatabase, probeCompileCommand, type CompileCommand } from '../../../engine/toolchain/compilation-database';
import { includeDirs, probeCompileFlags } from '../../../engine/toolchain/compile-probe';
import { findClang, findClangd } from '../../../engine/toolchain/find-clang';
import { provideLocalVmlinuxHeader } from '../../../engine/toolchain/vmlinux-header';
import { HelperNamesRequest } from '../../../protocol/lsp-requests';
import type { Studio } from '../studio';
import { clangDiagnostics } from '../clangd/clang-diagnostics';
import { verificationStore } from '../verify/verification-store';

const MISSING_NOTICE_KEY = 'ebpfStudio.clangdMissingNoticeShown';
const selector = [{ scheme: 'file', language: 'bpf-c' }];

/** "• bpf_probe_read_kernel" → "bpf_probe_read_kernel": clangd decorates labels with an include marker. */
function bareLabel(item: vscode.CompletionItem): string {
  return (typeof item.label === 'string' ? item.label : item.label.label).replace(/^[\s•]+/, '');
}

/** The command clangd gets for a probe: its verified target's vmlinux.h and machine, else this machine's. */
async function compileCommandFor(studio: Studio, file: string): Promise<CompileCommand> {
  const settings = studio.settings(vscode.Uri.file(file));
  const verified = verificationStore(studio.context).get(vscode.Uri.file(file))?.result;
  const machine = verified?.target.arch ?? os.machine();
  const vmlinuxPath = verified?.vmlinux?.path ?? (await provideLocalVmlinuxHeader(includeDirs(file, machine, settings.includePaths)).catch(() => undefined))?.path;
  const clang = await findClang(settings.clangPath).catch(() => undefined);
  const flags = probeCompileFlags({ machine, includePaths: settings.includePaths, ...(vmlinuxPath ? { vmlinuxDir: dirname(vmlinuxPath) } : {}) });
  return probeCompileCommand(file, clang?.path ?? 'clang', flags);
}

/**
 * Starts clangd in the background (activation does not wait for the search on PATH); in Restricted Mode only once
 * the folder is trusted, as clangd reads the folder's compile_commands.json and .clangd.
 */
export function activate(studio: Studio): void {
  if (vscode.workspace.isTrusted) void start(studio);
  else studio.context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void start(studio)));
}

async function start(studio: Studio): Promise<void> {
  const diagnostics = clangDiagnostics(studio.context);
  let clangdPath: string;
  try {
    clangdPath = (await findClangd(studio.settings().clangdPath)).path;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    studio.log.appendLine(`[clangd] not started: ${message}`);
    if (!studio.context.globalState.get<boolean>(MISSING_NOTICE_KEY)) {
      void studio.context.globalState.update(MISSING_NOTICE_KEY, true);
      void vscode.window.showInformationMessage(`eBPF Studio: ${message} eBPF completion, hover and checks work without it.`);
    }
    return;
  }

  let helperNames: Promise<Set<string>> | undefined;
  const knownHelpers = (): Promise<Set<string> | undefined> => {
    helperNames ??= studio.languageClient.then(async (c) => new Set(await c.sendRequest(HelperNamesRequest)));
    return helperNames.catch(() => {
      helperNames = undefined;
      return undefined;
    });
  };
  /** Files whose command clangd got from us, with the command, to send again when settings or the target change. */
  const pushed = new Map<string, string>();
  /** When each document was opened, until clangd first reports on it (logged: how long a probe takes to parse). */
  const opened = new Map<string, number>();
  const pushCommand = async (file: string): Promise<void> => {
    const database = governingCompilationDatabase(file);
    if (database && databaseLists(database, file)) return;
    const command = await compileCommandFor(studio, file);
    const text = JSON.stringify(command);
    if (pushed.get(file) === text) return;
    pushed.set(file, text);
    await client.sendNotification('workspace/didChangeConfiguration', { settings: { compilationDatabaseChanges: { [file]: command } } });
  };

  // no background index: it would write .cache/clangd into the user's folder; one probe's AST answers its features
  const serverOptions: ServerOptions = { command: clangdPath, args: ['--background-index=false', '--header-insertion=never', '--header-insertion-decorators=false', '--log=error'] };
  const clientOptions: LanguageClientOptions = {
    documentSelector: selector,
    outputChannel: studio.log,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    middleware: {
      didOpen: async (document, next) => {
        opened.set(document.uri.toString(), performance.now());
        await pushCommand(document.uri.fsPath).catch((error: unknown) => studio.log.appendLine(`[clangd] compile command for ${document.uri.fsPath}: ${String(error)}`));
        return next(document);
      },
      provideCompletionItem: async (document, position, context, token, next) => {
        const [result, helpers] = await Promise.all([next(document, position, context, token), knownHelpers()]);
        if (!result || !helpers) return result;
        const keep = (item: vscode.CompletionItem) => !helpers.has(bareLabel(item));
        return Array.isArray(result) ? result.filter(keep) : new vscode.CompletionList(result.items.filter(keep), result.isIncomplete);
      },
      handleDiagnostics: (uri, list, next) => {
        const since = opened.get(uri.toString());
        if (since !== undefined) {
          opened.delete(uri.toString());
          studio.log.appendLine(`[clangd] ${uri.fsPath} checked ${(performance.now() - since).toFixed(0)} ms after opening (${pushed.has(uri.fsPath) ? "eBPF Studio's compile command" : 'your compile_commands.json'})`);
        }
        diagnostics.received(uri, list, next);
      },
    },
  };
  // pushCommand runs from the middleware, once the client below exists
  const client = new LanguageClient('ebpfStudio.clangd', 'clangd (eBPF)', serverOptions, clientOptions);
  studio.context.subscriptions.push(
    { dispose: () => void client.stop().catch(() => undefined) },
    studio.onDidChangeSettings(() => vscode.workspace.textDocuments.filter((d) => d.languageId === 'bpf-c').forEach((d) => void pushCommand(d.uri.fsPath))),
    verificationStore(studio.context).onDidChange((uri) => void pushCommand(uri.fsPath)),
  );
  client.onDidChangeState((change) => {
    diagnostics.running = change.newState === State.Running;
  });
  client.start().then(
    () => studio.log.appendLine(`[clangd] ${clangdPath} serves bpf-c documents`),
    (error: unknown) => studio.log.appendLine(`[clangd] failed to start: ${error instanceof Error ? error.message : String(error)}`),
  );
}
