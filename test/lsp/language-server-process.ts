// Test harness: spawns the built language server (dist/server.js --stdio) and talks real LSP to
// it over vscode-jsonrpc; waits for notifications by condition with a timeout, never by sleeping.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';

export const SERVER_PATH = join(__dirname, '../../dist/server.js');

export class LanguageServerProcess {
  readonly connection: MessageConnection;
  private readonly child: ChildProcess;
  private readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  private readonly waiters: (() => void)[] = [];
  readonly stderr: string[] = [];
  private exited: Promise<number | null>;
  configuration: Record<string, unknown> = { targetKernel: '' };

  constructor() {
    if (!existsSync(SERVER_PATH)) throw new Error(`${SERVER_PATH} does not exist: run npm run build first`);
    this.child = spawn(process.execPath, [SERVER_PATH, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.connection = createMessageConnection(new StreamMessageReader(this.child.stdout as NodeJS.ReadableStream), new StreamMessageWriter(this.child.stdin as NodeJS.WritableStream));
    this.connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      this.diagnostics.set(params.uri, params);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.connection.onNotification('window/logMessage', () => undefined);
    this.connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) => params.items.map(() => this.configuration));
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.listen();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async initialize(initializationOptions: unknown = { settings: { targetKernel: '' } }): Promise<unknown> {
    const result = await this.connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: { workspace: { configuration: true }, textDocument: { publishDiagnostics: {} } },
      initializationOptions,
    });
    await this.connection.sendNotification('initialized', {});
    return result;
  }

  async open(path: string, text: string, version = 1): Promise<string> {
    const uri = pathToFileURL(path).toString();
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'bpf-c', version, text } });
    return uri;
  }

  async change(uri: string, version: number, changes: unknown[]): Promise<void> {
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
  }

  /** Resolves with the first diagnostics for uri that satisfy the predicate (including ones already received). */
  waitForDiagnostics(uri: string, predicate: (params: PublishDiagnosticsParams) => boolean = () => true, timeoutMs = 10000): Promise<Diagnostic[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${uri} within ${timeoutMs} ms; stderr: ${this.stderr.join('')}`)), timeoutMs);
      const check = () => {
        const params = this.diagnostics.get(uri);
        if (params && predicate(params)) {
          clearTimeout(timer);
          resolve(params.diagnostics);
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  async shutdown(): Promise<void> {
    if (this.alive) {
      try {
        await this.connection.sendRequest('shutdown');
        await this.connection.sendNotification('exit');
      } catch {
        this.child.kill();
      }
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
    this.connection.dispose();
  }
}
