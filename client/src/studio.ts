// The hub every client feature receives: extension context, output channels per target, the
// current target, typed settings, and the one owner of agent connections (local built in, others by connector).
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { AgentClient } from '../../engine/targets/agent-client';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { KERNEL_TARGET_PREFIX, type SshTargetSetting } from '../../engine/targets/target-address';
import { TargetSessions } from '../../engine/targets/target-sessions';
import { DeclinedSudoQuestions } from '../../engine/targets/declined-sudo-questions';
import { sudoPasswordBox } from './features/sudo-password-box';

/** An SSH host from the `ebpfStudio.targets` setting. */
export type TargetConfig = SshTargetSetting;

/** Typed view of every `ebpfStudio.*` setting, with the manifest's defaults. */
export interface StudioSettings {
  targetKernel: string;
  /** Absolute paths: `~` expanded, relative entries resolved against the workspace folder. */
  includePaths: string[];
  clangPath: string;
  clangdPath: string;
  verifyOnSave: boolean;
  targets: TargetConfig[];
  currentTarget: string;
  refreshIntervalMs: number;
  /** Kernels (versions such as `6.1`, or image paths) to verify on as well, each booted in a VM kept warm. */
  verifyKernels: string[];
}

/** How a target is reached: `local` for this machine, `kernel` for kernel:… names, `ssh` for everything else. */
export type TargetScheme = 'local' | 'ssh' | 'kernel';

/** A resolved target as handed to a connector. */
export interface ResolvedTarget {
  name: string;
  scheme: TargetScheme;
  /** The `ebpfStudio.targets` entry of that name, if any (else the name is an ssh:// URL, user@host or ~/.ssh/config alias). */
  config?: TargetConfig;
  /** Every configured SSH target, for resolving aliases and jump hosts. */
  configured: TargetConfig[];
  output: vscode.OutputChannel;
}

/** Opens an agent connection to a target. Registered per scheme with `Studio.registerConnector`. */
export type Connector = (target: ResolvedTarget, studio: Studio) => Promise<AgentClient>;

export const LOCAL_TARGET = 'local';
const SECTION = 'ebpfStudio';

/** `~/x` → home/x; a relative path → against `base` (the workspace folder) when there is one. */
function absolutePath(path: string, base: string | undefined): string {
  const expanded = path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
  return isAbsolute(expanded) || !base ? expanded : resolve(base, expanded);
}

function workspaceFolderPath(scope?: vscode.ConfigurationScope): string | undefined {
  const uri = scope instanceof vscode.Uri ? scope : scope && 'uri' in scope ? scope.uri : undefined;
  const folder = (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
}

/** Reads `ebpfStudio.*` from the configuration, falling back to the defaults of the manifest. */
export function readSettings(scope?: vscode.ConfigurationScope): StudioSettings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  const targets = config.get<unknown>('targets', []);
  const base = workspaceFolderPath(scope);
  const toolPath = (key: string) => {
    const path = config.get<string>(key, '').trim();
    return path.includes('/') || path.startsWith('~') ? absolutePath(path, base) : path;
  };
  return {
    targetKernel: config.get<string>('targetKernel', '').trim(),
    includePaths: config
      .get<unknown[]>('includePaths', [])
      .filter((p): p is string => typeof p === 'string' && p.trim().length > 0)
      .map((p) => absolutePath(p.trim(), base)),
    clangPath: toolPath('clangPath'),
    clangdPath: toolPath('clangdPath'),
    verifyOnSave: config.get<boolean>('verifyOnSave', true),
    targets: Array.isArray(targets) ? targets.filter(isTargetConfig) : [],
    currentTarget: config.get<string>('currentTarget', LOCAL_TARGET).trim() || LOCAL_TARGET,
    refreshIntervalMs: Math.max(100, config.get<number>('refreshIntervalMs', 1000)),
    verifyKernels: config
      .get<unknown[]>('verifyKernels', [])
      .filter((k): k is string => typeof k === 'string' && k.trim().length > 0)
      .map((k) => k.trim().replace(/^kernel:/, '')),
  };
}

function isTargetConfig(value: unknown): value is TargetConfig {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Record<string, unknown>;
  return typeof t.name === 'string' && t.name.length > 0 && typeof t.host === 'string' && t.host.length > 0;
}

export class Studio implements vscode.Disposable {
  /** The 'eBPF Studio' channel: activation, language server, anything not tied to one target. */
  readonly log: vscode.LogOutputChannel;
  private readonly outputs = new Map<string, vscode.OutputChannel>();
  private readonly connectors = new Map<TargetScheme, Connector>();
  /**
   * Every target's agent connection, status and sessions: the only registry of connections, so whatever opens
   * one (Verify on save, Attach, a live view) shows in the Targets view and is closed by Disconnect.
   */
  readonly targets = new TargetSessions((name) => this.openConnection(name));
  /** Targets whose sudo password question was cancelled: not asked again until a verify command or an attach (allow). */
  readonly sudoQuestions = new DeclinedSudoQuestions();
  private readonly targetChanged = new vscode.EventEmitter<string>();
  private readonly settingsChanged = new vscode.EventEmitter<StudioSettings>();
  private lastTarget: string;
  private disposed = false;
  private runningLanguageClient: LanguageClient | undefined;
  private resolveLanguageClient: (client: LanguageClient) => void = () => undefined;

  /** The language server's client, once the language-client feature has created it. */
  readonly languageClient: Promise<LanguageClient> = new Promise((resolve) => {
    this.resolveLanguageClient = resolve;
  });

  /** Fires with the new target name when `ebpfStudio.currentTarget` changes. */
  readonly onDidChangeTarget = this.targetChanged.event;
  /** Fires with the new settings when any `ebpfStudio.*` setting changes. */
  readonly onDidChangeSettings = this.settingsChanged.event;

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('eBPF Studio', { log: true });
    this.lastTarget = readSettings().currentTarget;
    this.connectors.set('local', (target) =>
      connectLocalAgent({ agentPath: context.asAbsolutePath('dist/agent.js'), onStderr: (line) => target.output.appendLine(line), sudoPassword: this.sudoQuestions.wrap(target.name, sudoPasswordBox) }),
    );
    context.subscriptions.push(
      this.log,
      this.targetChanged,
      this.settingsChanged,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        const settings = readSettings();
        this.settingsChanged.fire(settings);
        if (settings.currentTarget !== this.lastTarget) {
          this.lastTarget = settings.currentTarget;
          this.targetChanged.fire(settings.currentTarget);
        }
      }),
    );
  }

  /** Typed read of every `ebpfStudio.*` setting (optionally for a resource's folder). */
  settings(scope?: vscode.ConfigurationScope): StudioSettings {
    return readSettings(scope);
  }

  /** The target Verify and Attach use now: `local` or the name of a configured SSH target. */
  currentTarget(): string {
    return this.lastTarget;
  }

  /** Makes `name` the current target (stored in the workspace settings when a folder is open). */
  async setCurrentTarget(name: string): Promise<void> {
    const scope = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration(SECTION).update('currentTarget', name, scope);
  }

  /** The output channel of one target ('eBPF: local', 'eBPF: web1'…), created on first use. */
  output(targetName: string): vscode.OutputChannel {
    let channel = this.outputs.get(targetName);
    if (!channel) {
      channel = vscode.window.createOutputChannel(`eBPF: ${targetName}`);
      this.outputs.set(targetName, channel);
    }
    return channel;
  }

  /** Registers how targets of a scheme are reached; the SSH feature registers 'ssh'. */
  registerConnector(scheme: TargetScheme, connector: Connector): vscode.Disposable {
    this.connectors.set(scheme, connector);
    return new vscode.Disposable(() => {
      if (this.connectors.get(scheme) === connector) this.connectors.delete(scheme);
    });
  }

  /** Says how a target name is reached: `local`, `kernel:…` (a VM), or SSH for everything else (the SSH connector resolves it). */
  resolveTarget(targetName: string): ResolvedTarget {
    const output = this.output(targetName);
    const configured = this.settings().targets;
    if (targetName === LOCAL_TARGET) return { name: targetName, scheme: 'local', output, configured };
    if (targetName.startsWith(KERNEL_TARGET_PREFIX)) return { name: targetName, scheme: 'kernel', output, configured };
    const config = configured.find((t) => t.name === targetName);
    return { name: targetName, scheme: 'ssh', output, configured, ...(config ? { config } : {}) };
  }

  /**
   * The agent connection of a target, opened on first use and shared by every feature until it
   * closes. Activation opens none: this (through `targets`) is the only place an agent is started.
   */
  connect(targetName: string = this.currentTarget()): Promise<AgentClient> {
    if (this.disposed) return Promise.reject(new Error('eBPF Studio is shutting down.'));
    return this.targets.client(targetName);
  }

  private async openConnection(targetName: string): Promise<AgentClient> {
    const target = this.resolveTarget(targetName);
    const connector = this.connectors.get(target.scheme);
    if (!connector) {
      throw new Error(target.scheme === 'ssh'
        ? `Cannot reach "${targetName}": SSH targets are not available in this session.`
        : 'The local target is not available in this session.');
    }
    const stamp = (): string => new Date().toISOString();
    target.output.appendLine(`[${stamp()}] connecting to ${targetName}`);
    try {
      const client = await connector(target, this);
      target.output.appendLine(`[${stamp()}] agent running on ${targetName}`);
      void client.closed.then((reason) => target.output.appendLine(`[${stamp()}] the agent on ${targetName} ${reason}`));
      return client;
    } catch (error) {
      target.output.appendLine(`[${stamp()}] cannot connect to ${targetName}: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }

  /** Called once by the language-client feature; the hub stops the client on shutdown. */
  provideLanguageClient(client: LanguageClient): void {
    this.runningLanguageClient = client;
    this.resolveLanguageClient(client);
  }

  /** Names of the targets with an open (or opening) agent connection. */
  connectedTargets(): string[] {
    return this.targets.connectedNames();
  }

  /** Stops every agent and frees every channel; called from `deactivate`. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled([this.targets.disconnectAll(), this.runningLanguageClient?.stop()]);
    for (const channel of this.outputs.values()) channel.dispose();
    this.outputs.clear();
  }
}
