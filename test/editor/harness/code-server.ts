// Installs (once, via scripts/install-code-server.sh) and runs code-server for end-to-end tests:
// fresh user-data and extensions dirs, the packaged .vsix installed, one process group killed at the end.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor, WaitAbort } from './wait-for';

const PROJECT_ROOT = join(__dirname, '..', '..', '..');
const INSTALL_SCRIPT = join(PROJECT_ROOT, 'scripts', 'install-code-server.sh');

/** User settings for a quiet, trusted, deterministic workbench. */
const USER_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'editor.codeLens': true,
  'files.autoSave': 'off',
  'window.restoreWindows': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.colorTheme': 'Default Dark Modern',
};

/** Installs code-server into the cache if needed and returns the path of its entry script. */
export async function ensureCodeServer(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [INSTALL_SCRIPT], { timeout: 30 * 60_000, maxBuffer: 64 * 1024 * 1024 });
  const installDir = stdout.trim().split('\n').pop() ?? '';
  return join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

export interface CodeServerOptions {
  entryScript: string;
  /** Extensions to install before starting (the packaged eBPF Studio). */
  vsixPaths: string[];
  /** Folder copied into the session's temp dir and opened as the workspace. */
  workspaceSource: string;
  /** Where code-server's own output goes (kept for failure analysis). */
  logPath: string;
  /** Extra environment for code-server and therefore for the extension host. */
  env?: Record<string, string>;
}

export class CodeServer {
  private listeningUrl = '';

  private constructor(
    readonly workspaceDir: string,
    readonly userDataDir: string,
    readonly extensionsDir: string,
    private readonly root: string,
    private readonly child: ChildProcess,
  ) {
    process.once('exit', this.killOnExit);
  }

  /** Should the test process end without calling stop() (a crash, process.exit), the group goes down with it. */
  private readonly killOnExit = (): void => signalGroup(this.processGroup, 'SIGKILL');

  /** The process group id of code-server and everything it started (extension host, agents). */
  get processGroup(): number {
    return this.child.pid ?? 0;
  }

  /** The server's base URL, e.g. http://127.0.0.1:PORT/. */
  get url(): string {
    return this.listeningUrl;
  }

  /** URL that opens the workbench on the workspace folder. */
  get workbenchUrl(): string {
    return `${this.url}?folder=${encodeURIComponent(this.workspaceDir)}`;
  }

  /**
   * URL of a workbench window that runs extension tests, as `code --extensionDevelopmentPath
   * --extensionTestsPath` would: the web workbench reads both from its `payload` parameter.
   */
  extensionTestsUrl(extensionDevelopmentPath: string, extensionTestsPath: string): string {
    const remote = (path: string) => `vscode-remote://${new URL(this.url).host}${path}`;
    const payload = [
      ['extensionDevelopmentPath', remote(extensionDevelopmentPath)],
      ['extensionTestsPath', remote(extensionTestsPath)],
    ];
    return `${this.workbenchUrl}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  }

  static async start(options: CodeServerOptions): Promise<CodeServer> {
    const root = mkdtempSync(join(tmpdir(), 'ebpf-studio-editor-'));
    try {
      return await CodeServer.startIn(root, options);
    } catch (error) {
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  private static async startIn(root: string, options: CodeServerOptions): Promise<CodeServer> {
    const userDataDir = join(root, 'user-data');
    const extensionsDir = join(root, 'extensions');
    const workspaceDir = join(root, 'workspace');
    mkdirSync(join(userDataDir, 'User'), { recursive: true });
    mkdirSync(extensionsDir);
    writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
    cpSync(options.workspaceSource, workspaceDir, { recursive: true });
    const common = [
      '--config', join(root, 'config.yaml'),
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
    ];
    // HOME and XDG dirs point into the temp root so code-server and the extension host write nothing in ~.
    const env = {
      ...process.env,
      HOME: join(root, 'home'),
      XDG_CONFIG_HOME: join(root, 'home', '.config'),
      XDG_DATA_HOME: join(root, 'home', '.local', 'share'),
      XDG_CACHE_HOME: join(root, 'home', '.cache'),
      ...options.env,
    };
    const installs = options.vsixPaths.flatMap((vsix) => ['--install-extension', vsix]);
    await promisify(execFile)(process.execPath, [options.entryScript, ...common, ...installs, '--force'], {
      env,
      timeout: 120_000,
    });

    const log = openSync(options.logPath, 'w');
    const child = spawn(
      process.execPath,
      [options.entryScript, ...common, '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--disable-workspace-trust', '--ignore-last-opened', workspaceDir],
      { env, detached: true, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    let exited = false;
    child.once('exit', () => (exited = true));
    const server = new CodeServer(workspaceDir, userDataDir, extensionsDir, root, child);
    try {
      server.listeningUrl = await waitFor('code-server to listen', 60_000, () => {
        if (exited) throw new WaitAbort(new Error(`code-server exited early; see ${options.logPath}`));
        const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(readFileSync(options.logPath, 'utf8'));
        return match?.[1];
      });
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** Ends code-server's whole process group (SIGTERM, then SIGKILL) and removes the temp dirs. */
  async stop(): Promise<void> {
    const pgid = this.processGroup;
    if (pgid > 0 && groupAlive(pgid)) {
      signalGroup(pgid, 'SIGTERM');
      try {
        await waitFor('code-server to exit', 10_000, () => !groupAlive(pgid) || undefined);
      } catch {
        signalGroup(pgid, 'SIGKILL');
        await waitFor('code-server to be killed', 5_000, () => !groupAlive(pgid) || undefined);
      }
    }
    process.removeListener('exit', this.killOnExit);
    rmSync(this.root, { recursive: true, force: true });
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 0) return;
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** True while any live (non-zombie) process is in the group. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  return processesInGroup(pgid).length > 0;
}

/** PIDs of the live processes whose process group is pgid, read from /proc. */
export function processesInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) pids.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}
