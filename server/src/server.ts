// The language server's connection wiring only: LSP (stdio or IPC) ⇄ ProbeWorkspace and the
// feature modules (diagnostics, completion, hover, signature help, code actions).
import { fileURLToPath } from 'node:url';
import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, CodeActionKind, type InitializeResult } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ProbeWorkspace } from './features/probe-workspace';
import { completionsAt } from './features/completion';
import { hoverAt } from './features/hover';
import { signatureHelpAt } from './features/signature-help';
import { quickFixes } from './features/code-actions';
import { GlobalsRequest, HelperNamesRequest, ProgramsRequest, TargetHelperFactsNotification, TargetKernelRequest, type TargetHelperFacts } from '../../protocol/lsp-requests';
import { probeGlobals, readProbeGlobals } from './features/probe-globals';
import { probePrograms, readProbePrograms } from './analysis/probe-programs';
import { kernelFacts } from './kernel/kernel-facts';
import type { ProbeFile } from './analysis/probe-file';
import type { QuickCheck } from './rules/rule-engine';
import { loadCLanguage } from './analysis/c-parser';

const connection = createConnection(ProposedFeatures.all);
// loading starts before the connection listens: the WebAssembly compiles while the client initialises
const cLanguage = loadCLanguage();
const documents = new TextDocuments(TextDocument);
const workspace = new ProbeWorkspace((failure) => {
  connection.console.error(`rule ${failure.ruleId} failed: ${failure.error instanceof Error ? failure.error.stack : String(failure.error)}`);
});
const parsing = new Map<string, Promise<ProbeFile | undefined>>();
const toPublish = new Set<string>();
let publishScheduled = false;
let configurationPull = false;

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function applyTargetKernel(setting: unknown): void {
  const text = typeof setting === 'string' ? setting : '';
  if (!workspace.setTargetKernel(text)) {
    void connection.window.showWarningMessage(`ebpfStudio.targetKernel "${text}" is not a kernel version (e.g. 5.15); checking against this machine's kernel instead.`);
    workspace.setTargetKernel('');
  }
}

function schedulePublish(uri: string): void {
  toPublish.add(uri);
  if (publishScheduled) return;
  publishScheduled = true;
  // coalesce the changes that arrive together, then publish once per document
  setImmediate(() => {
    publishScheduled = false;
    const uris = [...toPublish];
    toPublish.clear();
    for (const target of uris) void publishDiagnostics(target);
  });
}

/** Slow whole-file rules re-run once the user has paused this long. */
const IDLE_MS = 300;
const idleChecks = new Map<string, NodeJS.Timeout>();
/**
 * A newly opened file's first check runs in slices of this much rule time: what the first slice finds is
 * published at once, the later slices follow at once (between slices the server answers requests and edits)
 * and their findings are published with the last one.
 */
const FIRST_CHECK_SLICE_MS = 50;
const firstCheckSlices = new Map<string, NodeJS.Immediate>();

function scheduleFollowUp(uri: string, quick: QuickCheck): void {
  clearTimeout(idleChecks.get(uri));
  clearImmediate(firstCheckSlices.get(uri));
  firstCheckSlices.delete(uri);
  if (quick.incomplete) firstCheckSlices.set(uri, setImmediate(() => void continueFirstCheck(uri)));
  else if (quick.deferred.length > 0) idleChecks.set(uri, setTimeout(() => void publishFullDiagnostics(uri), IDLE_MS));
}

async function publishDiagnostics(uri: string): Promise<void> {
  try {
    const document = documents.get(uri);
    await parsing.get(uri);
    if (!document) return;
    const quick = workspace.quickDiagnostics(uri, FIRST_CHECK_SLICE_MS);
    await connection.sendDiagnostics({ uri, version: document.version, diagnostics: quick.diagnostics });
    scheduleFollowUp(uri, quick);
  } catch (error) {
    connection.console.error(`diagnostics for ${uri} failed: ${describe(error)}`);
  }
}

async function continueFirstCheck(uri: string): Promise<void> {
  firstCheckSlices.delete(uri);
  try {
    const document = documents.get(uri);
    await parsing.get(uri);
    if (!document) return;
    const quick = workspace.quickDiagnostics(uri, FIRST_CHECK_SLICE_MS);
    if (!quick.incomplete) await connection.sendDiagnostics({ uri, version: document.version, diagnostics: quick.diagnostics });
    scheduleFollowUp(uri, quick);
  } catch (error) {
    connection.console.error(`diagnostics for ${uri} failed: ${describe(error)}`);
  }
}

async function publishFullDiagnostics(uri: string): Promise<void> {
  idleChecks.delete(uri);
  try {
    const document = documents.get(uri);
    await parsing.get(uri);
    if (!document) return;
    await connection.sendDiagnostics({ uri, version: document.version, diagnostics: workspace.diagnostics(uri) });
  } catch (error) {
    connection.console.error(`diagnostics for ${uri} failed: ${describe(error)}`);
  }
}

function reparse(uri: string): void {
  const document = documents.get(uri);
  if (!document) return;
  const previous = parsing.get(uri) ?? Promise.resolve(undefined);
  const next = previous.then(
    () => workspace.update(uri, document.getText()),
    () => workspace.update(uri, document.getText()),
  ).catch((error: unknown) => {
    connection.console.error(`parsing ${uri} failed: ${describe(error)}`);
    return undefined;
  });
  parsing.set(uri, next);
  schedulePublish(uri);
}

/** The latest parse of a document, waiting for one in progress. */
async function fileFor(uri: string): Promise<ProbeFile | undefined> {
  await parsing.get(uri);
  return workspace.file(uri);
}

connection.onInitialize((params): InitializeResult => {
  const options = params.initializationOptions as { settings?: { targetKernel?: unknown } } | undefined;
  applyTargetKernel(options?.settings?.targetKernel);
  configurationPull = params.capabilities.workspace?.configuration === true;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: ['"', '/', '_', ' ', ','] },
      hoverProvider: true,
      signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [','] },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: 'ebpf-studio', version: '0.1.0' },
  };
});

async function pullConfiguration(): Promise<void> {
  if (!configurationPull) return;
  try {
    const settings = (await connection.workspace.getConfiguration('ebpfStudio')) as { targetKernel?: unknown } | null;
    applyTargetKernel(settings?.targetKernel);
  } catch (error) {
    connection.console.error(`reading ebpfStudio settings failed: ${describe(error)}`);
  }
}

connection.onInitialized(() => {
  void pullConfiguration().then(() => workspace.uris().forEach(schedulePublish));
});

connection.onDidChangeConfiguration((change) => {
  const pushed = (change.settings as { ebpfStudio?: { targetKernel?: unknown } } | null)?.ebpfStudio;
  const done = pushed && 'targetKernel' in pushed ? Promise.resolve(applyTargetKernel(pushed.targetKernel)) : pullConfiguration();
  void done.then(() => workspace.uris().forEach(schedulePublish));
});

documents.onDidOpen((event) => reparse(event.document.uri));
documents.onDidChangeContent((event) => reparse(event.document.uri));
documents.onDidClose((event) => {
  const uri = event.document.uri;
  clearTimeout(idleChecks.get(uri));
  idleChecks.delete(uri);
  clearImmediate(firstCheckSlices.get(uri));
  firstCheckSlices.delete(uri);
  void (parsing.get(uri) ?? Promise.resolve()).then(() => {
    workspace.close(uri);
    parsing.delete(uri);
  });
  void connection.sendDiagnostics({ uri, diagnostics: [] });
});

connection.onCompletion(async (params) => {
  try {
    const file = await fileFor(params.textDocument.uri);
    return file ? completionsAt(file, params.position) : [];
  } catch (error) {
    connection.console.error(`completion failed: ${describe(error)}`);
    return [];
  }
});

connection.onHover(async (params) => {
  try {
    const file = await fileFor(params.textDocument.uri);
    return file ? hoverAt(file, params.position) : null;
  } catch (error) {
    connection.console.error(`hover failed: ${describe(error)}`);
    return null;
  }
});

connection.onSignatureHelp(async (params) => {
  try {
    const file = await fileFor(params.textDocument.uri);
    return file ? signatureHelpAt(file, params.position) : null;
  } catch (error) {
    connection.console.error(`signature help failed: ${describe(error)}`);
    return null;
  }
});

connection.onCodeAction((params) => quickFixes(params.textDocument.uri, params.context.diagnostics));

connection.onRequest(TargetKernelRequest, () => workspace.targetKernelInfo());

/** The notification's payload as the client sends it: null, or a target, a kernel release and program types with helper names. */
function isTargetHelperFacts(value: unknown): value is TargetHelperFacts | null {
  if (value === null) return true;
  const facts = value as Partial<TargetHelperFacts> | undefined;
  return typeof facts?.target === 'string' && typeof facts.kernelRelease === 'string' && Array.isArray(facts.programTypes) &&
    facts.programTypes.every((p) => typeof p?.type === 'string' && typeof p.helpersProbed === 'boolean' && Array.isArray(p.helpers) && p.helpers.every((h) => typeof h === 'string'));
}

connection.onNotification(TargetHelperFactsNotification, (facts: unknown) => {
  if (!isTargetHelperFacts(facts)) {
    connection.console.error('ebpfStudio/targetHelperFacts: not a feature probe result; keeping the helper facts as they were');
    return;
  }
  workspace.setTargetHelperFacts(facts);
  workspace.uris().forEach(schedulePublish);
});

connection.onRequest(ProgramsRequest, async ({ uri }) => {
  const file = await fileFor(uri);
  if (file) return probePrograms(file);
  if (!uri.startsWith('file:')) return [];
  return readProbePrograms(fileURLToPath(uri));
});

connection.onRequest(GlobalsRequest, async ({ uri }) => {
  const file = await fileFor(uri);
  if (file) return probeGlobals(file);
  if (!uri.startsWith('file:')) return [];
  return readProbeGlobals(fileURLToPath(uri));
});

connection.onRequest(HelperNamesRequest, () => kernelFacts.helpers().map((helper) => helper.name));

process.on('uncaughtException', (error) => connection.console.error(`unexpected error: ${describe(error)}`));

cLanguage.catch((error: unknown) => connection.console.error(`loading the C parser failed: ${describe(error)}`));
documents.listen(connection);
connection.listen();
