// One editor test's VS Code: an emptied output folder, the .vsix packaged into a temp dir, code-server on a
// copy of the workspace and headless Chromium on its workbench; close() ends and removes all of it.
import { test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageVsix } from '../../packaging/package-vsix';
import { CodeServer, ensureCodeServer } from './code-server';
import { Workbench } from './workbench';

export interface EditorSessionOptions {
  /** Screenshots and code-server's log go here; emptied first. */
  outputDir: string;
  /** Name prefix of the temp dir that holds the packaged .vsix. */
  tempPrefix: string;
  /** Folder copied and opened as the workspace. */
  workspaceSource: string;
  /** Runs once the .vsix is packaged, right before code-server starts. */
  beforeStart?: () => void;
}

export class EditorSession {
  /** The temp dir of this session (the .vsix is in it); removed by close(). */
  workDir = '';
  private server: CodeServer | undefined;
  private workbench: Workbench | undefined;
  /** How long each phase of open() took, ms, for the phases that ran: codeServerInstallMs, packageMs, workbenchStartMs. */
  readonly timings: Record<string, number> = {};

  /** Opens the session; should it fail part way, close() still ends and removes what was started. */
  async open(options: EditorSessionOptions): Promise<{ server: CodeServer; workbench: Workbench }> {
    rmSync(options.outputDir, { recursive: true, force: true });
    mkdirSync(options.outputDir, { recursive: true });
    this.workDir = mkdtempSync(join(tmpdir(), options.tempPrefix));
    let started = performance.now();
    const entryScript = await ensureCodeServer();
    this.timings.codeServerInstallMs = performance.now() - started;
    started = performance.now();
    const vsix = join(this.workDir, 'ebpf-studio.vsix');
    await packageVsix(vsix);
    this.timings.packageMs = performance.now() - started;
    options.beforeStart?.();
    started = performance.now();
    const server = await CodeServer.start({ entryScript, vsixPaths: [vsix], workspaceSource: options.workspaceSource, logPath: join(options.outputDir, 'code-server.log') });
    this.server = server;
    const workbench = await Workbench.open(server.workbenchUrl, options.outputDir);
    this.workbench = workbench;
    this.timings.workbenchStartMs = performance.now() - started;
    return { server, workbench };
  }

  /** One step of a walk through the editor, as a test: a screenshot named after it when it passes, FAILED when not. */
  step(name: string, skip: string | false, body: () => Promise<void>): void {
    test(name, { skip }, async () => {
      try {
        await body();
        await this.workbench?.screenshot(name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 50));
      } catch (error) {
        await this.workbench?.screenshot('FAILED').catch(() => undefined);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.workbench?.close().catch(() => undefined);
    await this.server?.stop();
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
  }
}
