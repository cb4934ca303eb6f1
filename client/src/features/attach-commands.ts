// Attach Probe, Attach to Hosts…, Detach, Detach All: compiles for each target's kernel, attaches concurrently with a status
// per target (a session with nothing attached is unloaded at once), logs and confirms. Talks to TargetSessions.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { LoadParams, SessionProgram } from '../../../protocol/agent-rpc';
import { LOCAL_TARGET, type Studio } from '../studio';
import { configuredTargetNames } from '../../../engine/targets/target-address';
import type { AgentClient } from '../../../engine/targets/agent-client';
import { probeLoadRequest, type ProbeLoadOptions } from '../targets/probe-load-request';
import { recordSessionSource } from '../targets/session-sources';
import { itemRef } from '../targets/target-item-ref';

export function probeUri(argument: unknown): vscode.Uri | undefined {
  if (argument instanceof vscode.Uri) return argument;
  const editor = vscode.window.activeTextEditor;
  if (editor && (editor.document.languageId === 'bpf-c' || editor.document.fileName.endsWith('.bpf.c'))) return editor.document.uri;
  return undefined;
}

/** What the user chose for one attach: programs, globals, map sizes, attach options (all optional). */
export type AttachChoices = Pick<ProbeLoadOptions, 'programs' | 'globals' | 'mapSizes' | 'attach'>;

/** Builds the load request for each target with the probe's settings, logging to the target's output channel. */
function loadBuilder(studio: Studio, uri: vscode.Uri, choices: AttachChoices) {
  return (client: AgentClient, name: string): Promise<LoadParams> => {
    const out = studio.output(name);
    const settings = studio.settings(uri);
    return probeLoadRequest(uri.fsPath, client, name, {
      includePaths: settings.includePaths,
      ...(settings.clangPath ? { clangPath: settings.clangPath } : {}),
      ...choices,
      log: (line) => out.appendLine(`[${new Date().toISOString()}] ${line}`),
    });
  };
}

/** A notLoaded reason that is a choice, not a failure: the agent loaded a better variant of the same handler. */
const VARIANT_LEFT_OUT = /^variant of /;

/** One output line per program: attached (and how), not loaded (a variant left out, or refused), or not attached (why). */
function programLine(p: SessionProgram): string {
  if (p.notLoaded) return `not loaded ${p.name} (${p.section}): ${p.notLoaded}`;
  if (p.attached) return `attached ${p.name} (${p.section}), program id ${p.id}${p.attachNote ? ` (${p.attachNote})` : ''}`;
  return `NOT attached ${p.name}: ${p.attachError}`;
}

/** Attaches the probe on each target with the choices, reports per target; a session with nothing attached is unloaded at once. */
export async function attachOn(studio: Studio, targets: string[], uri: vscode.Uri, choices: AttachChoices = {}): Promise<void> {
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (document?.isDirty) await document.save();
  for (const target of targets) studio.sudoQuestions.allow(target);
  const sessions = studio.targets;
  const outcomes = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Attaching ${basename(uri.fsPath)} to ${targets.join(', ')}…` },
    () => sessions.attach(targets, loadBuilder(studio, uri, choices)),
  );
  const failed: string[] = [];
  /** Programs the kernel refused while the others of their probe run: "target: name, reason". */
  const refused: string[] = [];
  for (const [name, outcome] of outcomes) {
    const out = studio.output(name);
    if (!outcome.ok) {
      out.appendLine(`[${new Date().toISOString()}] attach failed: ${outcome.error}`);
      failed.push(name);
      continue;
    }
    const programs = outcome.result.programs;
    for (const p of programs) out.appendLine(`[${new Date().toISOString()}] ${programLine(p)}`);
    recordSessionSource(studio, name, outcome.result.session, uri.fsPath);
    for (const p of programs) if (p.notLoaded && !VARIANT_LEFT_OUT.test(p.notLoaded)) refused.push(`${name}: ${p.name} ${p.notLoaded}`);
    if (programs.some((p) => !p.notLoaded && !p.attached) || programs.every((p) => !p.attached)) failed.push(name);
    // nothing attached: nothing to watch, so its programs and maps leave the kernel now, not at Detach All
    if (programs.length > 0 && programs.every((p) => !p.attached)) {
      await sessions.detach(name, outcome.result.session).then(
        () => out.appendLine(`[${new Date().toISOString()}] unloaded session ${outcome.result.session}: none of its ${programs.length} program(s) attached`),
        (err: unknown) => out.appendLine(`[${new Date().toISOString()}] unloading session ${outcome.result.session} failed: ${(err as Error).message}`),
      );
    }
  }
  const ok = targets.length - failed.length;
  const show = 'Show Output';
  const attached = [...new Set([...outcomes.values()].flatMap((o) => (o.ok ? o.result.programs.filter((p) => p.attached).map((p) => p.name) : [])))];
  if (failed.length === 0 && refused.length === 0) {
    void vscode.window.showInformationMessage(`eBPF: ${basename(uri.fsPath)} attached on ${targets.join(', ')} (${attached.join(', ')}).`);
  } else if (failed.length === 0) {
    const choice = await vscode.window.showWarningMessage(`eBPF: ${basename(uri.fsPath)} attached on ${targets.join(', ')} (${attached.join(', ')}); not loaded: ${refused.join('; ')}`, show);
    if (choice === show) studio.output(targets[0]).show(true);
  } else {
    const first = outcomes.get(failed[0]);
    const programs = first?.ok ? first.result.programs : [];
    const why = first && !first.ok ? first.error : programs.find((p) => !p.notLoaded && !p.attached)?.attachError ?? programs.find((p) => p.notLoaded)?.notLoaded;
    const choice = await vscode.window.showErrorMessage(`eBPF: attached on ${ok} of ${targets.length} target(s); ${failed.join(', ')}: ${why}`, show);
    if (choice === show) studio.output(failed[0]).show(true);
  }
}

/** The programs a command argument names: one name, a list of names, or nothing (= every program of the file). */
function programNames(argument: unknown): string[] | undefined {
  if (typeof argument === 'string') return [argument];
  if (Array.isArray(argument) && argument.length > 0 && argument.every((n) => typeof n === 'string')) return argument as string[];
  return undefined;
}

/** Attach Probe: every program of the file as one session, or only `programs` ("Attach only <program>" lens). */
async function attachProbe(studio: Studio, argument: unknown, programs?: unknown): Promise<void> {
  const ref = itemRef(argument);
  const uri = probeUri(argument);
  if (!uri) return void vscode.window.showWarningMessage('eBPF: open a .bpf.c probe to attach it.');
  const only = programNames(programs);
  await attachOn(studio, [ref.targetName ?? studio.currentTarget()], uri, only ? { programs: only } : {});
}

async function attachToHosts(studio: Studio, argument: unknown): Promise<void> {
  const uri = probeUri(argument);
  if (!uri) return void vscode.window.showWarningMessage('eBPF: open a .bpf.c probe to attach it.');
  let aliases: string[] = [];
  try {
    aliases = configuredTargetNames([]);
  } catch (err) {
    studio.log.appendLine(`[warn] ~/.ssh/config could not be read: ${(err as Error).message}`);
  }
  const names = [...new Set([LOCAL_TARGET, ...studio.settings().targets.map((t) => t.name), ...aliases])];
  const picks = await vscode.window.showQuickPick(
    names.map((n) => ({ label: n, picked: n === studio.currentTarget() })),
    { title: `Attach ${basename(uri.fsPath)} to which targets?`, canPickMany: true },
  );
  if (!picks?.length) return;
  await attachOn(studio, picks.map((p) => p.label), uri);
}

async function detach(studio: Studio, argument: unknown): Promise<void> {
  const sessions = studio.targets;
  const ref = itemRef(argument);
  if (ref.targetName && ref.session) {
    const objectName = sessions.states().find((t) => t.name === ref.targetName)?.sessions.find((s) => s.session === ref.session)?.objectName ?? ref.session;
    await sessions.detach(ref.targetName, ref.session);
    studio.output(ref.targetName).appendLine(`[${new Date().toISOString()}] detached session ${ref.session}`);
    void vscode.window.setStatusBarMessage(`$(debug-disconnect) eBPF: detached ${objectName} on ${ref.targetName}; its programs and maps are unloaded`, 5000);
    return;
  }
  if (ref.targetName) {
    await sessions.disconnect(ref.targetName);
    studio.output(ref.targetName).appendLine(`[${new Date().toISOString()}] disconnected; the agent exited and the kernel detached everything`);
    void vscode.window.setStatusBarMessage(`$(debug-disconnect) eBPF: disconnected from ${ref.targetName}; everything it attached is detached`, 5000);
    return;
  }
  const open = sessions.states().flatMap((t) => t.sessions.map((s) => ({ label: `${t.name}: ${s.objectName}`, description: s.session, target: t.name, session: s.session })));
  if (open.length === 0) return void vscode.window.showInformationMessage('eBPF: nothing is attached.');
  const pick = await vscode.window.showQuickPick(open, { title: 'Detach which session?' });
  if (pick) await detach(studio, { targetName: pick.target, session: pick.session });
}

async function detachAll(studio: Studio): Promise<void> {
  const sessions = studio.targets;
  const states = sessions.states().filter((s) => s.status !== 'disconnected' && s.status !== 'failed');
  const count = states.reduce((n, s) => n + s.sessions.length, 0);
  await sessions.disconnectAll();
  for (const state of states) studio.output(state.name).appendLine(`[${new Date().toISOString()}] detached everything (agent stopped)`);
  void vscode.window.showInformationMessage(
    states.length === 0
      ? 'eBPF: nothing was attached.'
      : `eBPF: detached ${count} session${count === 1 ? '' : 's'} on ${states.map((s) => s.name).join(', ')}; the programs and maps are unloaded.`,
  );
}

export function activate(studio: Studio): void {
  const run = (fn: () => Promise<void>) => fn().catch((err: unknown) => void vscode.window.showErrorMessage(`eBPF: ${(err as Error).message}`));
  studio.context.subscriptions.push(
    vscode.commands.registerCommand('ebpfStudio.attachProbe', (argument: unknown, program: unknown) => run(() => attachProbe(studio, argument, program))),
    vscode.commands.registerCommand('ebpfStudio.attachToHosts', (argument: unknown) => run(() => attachToHosts(studio, argument))),
    vscode.commands.registerCommand('ebpfStudio.detach', (argument: unknown) => run(() => detach(studio, argument))),
    vscode.commands.registerCommand('ebpfStudio.detachAll', () => run(() => detachAll(studio))),
  );
}
