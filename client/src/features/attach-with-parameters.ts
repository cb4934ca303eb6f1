// "Attach with Parameters…": compiles the probe, asks the target's agent what it would load by itself (a load without
// attaching, unloaded at once), then steps through programs, const volatile globals, map sizes and XDP interface/mode,
// remembers the answers per file in workspace state and attaches through the same path as Attach Probe. Talks to the agent.
import { networkInterfaces } from 'node:os';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { XDP_MODES, type AttachOptions, type LoadParams, type LoadResult, type MapSize, type XdpMode } from '../../../protocol/agent-rpc';
import type { ProbeGlobal } from '../../../protocol/lsp-requests';
import { objectGlobals, parseGlobalValue, type ObjectGlobal } from '../../../engine/btf/object-globals';
import type { DecodedValue } from '../../../engine/btf/value-decoder';
import { MAP_SIZE_FORMS, parseMapSizeText } from '../../../engine/targets/map-size-text';
import { LOCAL_TARGET, type Studio } from '../studio';
import { probeLoadRequest } from '../targets/probe-load-request';
import { requestProbeGlobals } from '../targets/probe-global-comments';
import { requestProbePrograms } from '../targets/probe-programs';
import { itemRef } from '../targets/target-item-ref';
import { attachOn, probeUri, type AttachChoices } from './attach-commands';

/** What the user answered last time for a file, as typed (workspace state; nothing secret). */
interface SavedAnswers {
  programs?: string[];
  globals?: Record<string, string>;
  mapSizes?: Record<string, string>;
  ifname?: string;
  xdpMode?: XdpMode;
}

/** What the tool would do by itself on the target, and what the flow offers to change. */
interface LoadPlan {
  params: LoadParams;
  globals: ObjectGlobal[];
  comments: Map<string, string>;
  programs: { name: string; section: string; type: string; automatic: boolean; why?: string }[];
  /** Maps whose size the probe leaves to user space, with the size the tool picks. */
  sizedMaps: { name: string; type: string; sizing: string }[];
  /** Why the agent could not load the probe as it is (the programs then come from the source). */
  planError?: string;
}

const stateKey = (uri: vscode.Uri) => `ebpfStudio.attachParameters:${uri.toString()}`;
const AUTOMATIC_XDP = 'automatic';
const NEEDS_INTERFACE = /^(xdp|tc|tcx|classifier|sched_cls)\b/;

class Cancelled extends Error {}

const shown = (value: DecodedValue): string => JSON.stringify(value);

/** A default as the user would type it: text without quotes, other values as JSON. */
function typed(value: DecodedValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Loads without attaching on the target to learn the variants and sizes the agent picks, then unloads. */
async function planLoad(studio: Studio, target: string, uri: vscode.Uri): Promise<LoadPlan> {
  studio.sudoQuestions.allow(target);
  const client = await studio.connect(target);
  const out = studio.output(target);
  const settings = studio.settings(uri);
  const params = await probeLoadRequest(uri.fsPath, client, target, {
    includePaths: settings.includePaths,
    ...(settings.clangPath ? { clangPath: settings.clangPath } : {}),
    log: (line) => out.appendLine(`[${new Date().toISOString()}] ${line}`),
  });
  const globals = objectGlobals(Buffer.from(params.object, 'base64'));
  const declared: ProbeGlobal[] = await requestProbeGlobals(studio, uri).catch((error: Error) => {
    studio.log.warn(error.message);
    return [];
  });
  const comments = new Map(declared.map((g) => [g.name, g.comment]));
  let result: LoadResult | undefined;
  let planError: string | undefined;
  try {
    result = await client.request('load', { ...params, noAttach: true, stats: false });
  } catch (error) {
    planError = error instanceof Error ? error.message : String(error);
  } finally {
    if (result) await client.request('detach', { session: result.session });
  }
  out.appendLine(`[${new Date().toISOString()}] ${result ? `checked what loads by itself (session ${result.session}, unloaded)` : `the probe does not load as it is: ${planError}`}`);
  const programs = result
    ? result.programs.map((p) => ({ name: p.name, section: p.section, type: p.type, automatic: !p.notLoaded, ...(p.notLoaded ? { why: p.notLoaded } : {}) }))
    : (await requestProbePrograms(studio, uri)).map((p) => ({ name: p.name, section: p.section, type: '', automatic: !p.section.startsWith('?') }));
  const sizedMaps = (result?.maps ?? []).filter((m) => !m.internal && m.sizing).map((m) => ({ name: m.name, type: m.type, sizing: m.sizing as string }));
  return { params, globals, comments, programs, sizedMaps, ...(planError ? { planError } : {}) };
}

/** One choice from a list with the remembered (or default) one active; Escape cancels the whole flow. */
async function pickOne<T extends vscode.QuickPickItem>(title: string, items: T[], active: T | undefined, placeholder: string): Promise<T> {
  const pick = vscode.window.createQuickPick<T>();
  pick.title = title;
  pick.placeholder = placeholder;
  pick.items = items;
  pick.ignoreFocusOut = true;
  if (active) pick.activeItems = [active];
  try {
    return await new Promise<T>((resolve, reject) => {
      pick.onDidAccept(() => (pick.selectedItems[0] ? resolve(pick.selectedItems[0]) : undefined));
      pick.onDidHide(() => reject(new Cancelled()));
      pick.show();
    });
  } finally {
    pick.dispose();
  }
}

async function input(options: vscode.InputBoxOptions): Promise<string> {
  const value = await vscode.window.showInputBox({ ignoreFocusOut: true, ...options });
  if (value === undefined) throw new Cancelled();
  return value;
}

async function choosePrograms(plan: LoadPlan, saved: SavedAnswers, title: string): Promise<string[] | undefined> {
  const automatic = plan.programs.filter((p) => p.automatic).map((p) => p.name);
  const remembered = saved.programs?.every((n) => plan.programs.some((p) => p.name === n)) ? saved.programs : undefined;
  const picked = new Set(remembered ?? automatic);
  const items = plan.programs.map((p) => ({
    label: p.name,
    description: p.section,
    detail: p.automatic ? 'loaded by default' : `not loaded by default: ${p.why ?? 'SEC("?…") programs load only when asked for'}`,
    picked: picked.has(p.name),
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    title,
    canPickMany: true,
    ignoreFocusOut: true,
    placeHolder: plan.planError ? `It does not load as it is (${plan.planError}); pick the programs to load` : 'Programs to load and attach (checked: what loads by default on this target)',
  });
  if (!chosen) throw new Cancelled();
  if (chosen.length === 0) throw new Error('pick at least one program to attach.');
  const names = chosen.map((c) => c.label);
  const same = names.length === automatic.length && names.every((n) => automatic.includes(n));
  return same ? undefined : names;
}

async function chooseGlobals(plan: LoadPlan, saved: SavedAnswers, title: string): Promise<Record<string, string>> {
  const values: Record<string, string> = Object.fromEntries(Object.entries(saved.globals ?? {}).filter(([name, text]) => {
    const global = plan.globals.find((g) => g.name === name);
    return global && 'value' in parseGlobalValue(global, text);
  }));
  // a template folder's template.json sets some globals itself: that value is the default then
  const templateValues: Record<string, DecodedValue> = plan.params.globals ?? {};
  const defaultOf = (g: ObjectGlobal): DecodedValue => (g.name in templateValues ? templateValues[g.name] : g.defaultValue);
  const done: vscode.QuickPickItem = { label: '$(play) Attach with these values', alwaysShow: true };
  for (;;) {
    const items = plan.globals.map((g) => ({
      label: `${g.name} = ${g.name in values ? values[g.name] : typed(defaultOf(g))}`,
      description: `${g.type} · ${g.name in values ? `default ${shown(defaultOf(g))}` : 'default'}${g.name in templateValues ? ' from template.json' : ''}${g.kind === 'other' ? ' · cannot be set before load' : ''}`,
      detail: plan.comments.get(g.name) || 'no comment above it in the source',
      global: g,
    }));
    const choice = await pickOne<vscode.QuickPickItem & { global?: ObjectGlobal }>(title, [done, ...items], done, 'Pick a global to set it; the values are set in .rodata before load');
    if (!choice.global) return values;
    const global = choice.global;
    if (global.kind === 'other') continue;
    const comment = plan.comments.get(global.name);
    const text = await input({
      title: `${global.name} (${global.type})`,
      prompt: `${comment ? `${comment}. ` : ''}Default ${shown(defaultOf(global))}; leave empty for the default.${global.enumerators ? ` One of ${global.enumerators.map((e) => e.name).join(', ')}.` : ''}`,
      value: global.name in values ? values[global.name] : typed(defaultOf(global)),
      validateInput: (t) => {
        if (t.trim() === '') return undefined;
        const checked = parseGlobalValue(global, t);
        return 'error' in checked ? checked.error : undefined;
      },
    });
    if (text.trim() === '') delete values[global.name];
    else values[global.name] = text;
  }
}

async function chooseMapSizes(plan: LoadPlan, saved: SavedAnswers, title: string): Promise<Record<string, string>> {
  const values = Object.fromEntries(Object.entries(saved.mapSizes ?? {}).filter(([name, text]) => plan.sizedMaps.some((m) => m.name === name) && parseMapSizeText(text)));
  const done: vscode.QuickPickItem = { label: '$(check) Continue with these sizes', alwaysShow: true };
  for (;;) {
    const items = plan.sizedMaps.map((m) => ({
      label: `${m.name} = ${values[m.name] ?? 'default'}`,
      description: m.type,
      detail: `The probe leaves its size to user space; by default: ${m.sizing}`,
      map: m,
    }));
    const choice = await pickOne<vscode.QuickPickItem & { map?: LoadPlan['sizedMaps'][number] }>(title, [done, ...items], done, 'Pick a map to size it (as run --map-size NAME=ENTRIES)');
    if (!choice.map) return values;
    const map = choice.map;
    const text = await input({
      title: `${map.name}: size`,
      prompt: `${MAP_SIZE_FORMS}; leave empty for the default (${map.sizing}).`,
      value: values[map.name] ?? '',
      validateInput: (t) => (t.trim() === '' || parseMapSizeText(t) ? undefined : `Give ${MAP_SIZE_FORMS}.`),
    });
    if (text.trim() === '') delete values[map.name];
    else values[map.name] = text.trim();
  }
}

/** The interface and XDP mode for xdp/tc programs; the template's interface when it names one. */
async function chooseNetworkAttach(plan: LoadPlan, chosen: string[], target: string, saved: SavedAnswers, title: (step: string) => string): Promise<AttachOptions> {
  const programs = plan.programs.filter((p) => chosen.includes(p.name));
  const xdp = programs.some((p) => p.type === 'xdp' || /^xdp\b/.test(p.section));
  if (!programs.some((p) => NEEDS_INTERFACE.test(p.section))) return {};
  const fromTemplate = Object.values(plan.params.attach ?? {}).find((o) => o.ifname)?.ifname;
  const options: AttachOptions = {};
  if (!fromTemplate) {
    if (target === LOCAL_TARGET) {
      const items = Object.keys(networkInterfaces()).map((name) => ({ label: name }));
      options.ifname = (await pickOne(title('interface'), items, items.find((i) => i.label === saved.ifname), `The network interface to attach ${programs.map((p) => p.name).join(', ')} to`)).label;
    } else {
      options.ifname = await input({ title: title('interface'), prompt: `The network interface on ${target} (see ip link)`, value: saved.ifname ?? '', validateInput: (t) => (/^[\w.-]+$/.test(t.trim()) ? undefined : 'An interface name, e.g. eth0.') });
    }
  }
  if (xdp) {
    const items = [
      { label: AUTOMATIC_XDP, description: 'native, generic when the driver refuses it (what the tool does by itself)' },
      { label: 'native', description: 'in the driver, before the kernel allocates the packet' },
      { label: 'generic', description: 'SKB mode: works on every interface, slower' },
      { label: 'offload', description: 'on the NIC itself (few NICs can)' },
    ];
    const mode = await pickOne(title('XDP mode'), items, items.find((i) => i.label === (saved.xdpMode ?? AUTOMATIC_XDP)), 'How the XDP program attaches');
    if (XDP_MODES.includes(mode.label as XdpMode)) options.xdpMode = mode.label as XdpMode;
  }
  return options;
}

async function attachWithParameters(studio: Studio, argument: unknown): Promise<void> {
  const uri = probeUri(argument);
  if (!uri) return void vscode.window.showWarningMessage('eBPF: open a .bpf.c probe to attach it with parameters.');
  const target = itemRef(argument).targetName ?? studio.currentTarget();
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (document?.isDirty) await document.save();
  const file = basename(uri.fsPath);
  const plan = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Compiling ${file} and asking ${target} what it loads by default…` },
    () => planLoad(studio, target, uri),
  );
  const saved = studio.context.workspaceState.get<SavedAnswers>(stateKey(uri)) ?? {};
  const steps = ['programs', ...(plan.globals.length ? ['globals'] : []), ...(plan.sizedMaps.length ? ['map sizes'] : [])];
  const title = (step: string) => `Attach ${file} on ${target} with parameters: ${step}${steps.includes(step) ? ` (${steps.indexOf(step) + 1}/${steps.length})` : ''}`;
  try {
    const programs = await choosePrograms(plan, saved, title('programs'));
    const globals = plan.globals.length ? await chooseGlobals(plan, saved, title('globals')) : {};
    const mapSizes = plan.sizedMaps.length ? await chooseMapSizes(plan, saved, title('map sizes')) : {};
    const chosen = programs ?? plan.programs.filter((p) => p.automatic).map((p) => p.name);
    const network = await chooseNetworkAttach(plan, chosen, target, saved, title);
    const answers: SavedAnswers = { ...(programs ? { programs } : {}), globals, mapSizes, ...(network.ifname ? { ifname: network.ifname } : {}), ...(network.xdpMode ? { xdpMode: network.xdpMode } : {}) };
    await studio.context.workspaceState.update(stateKey(uri), answers);
    const choices: AttachChoices = {
      ...(programs ? { programs } : {}),
      globals: Object.fromEntries(Object.entries(globals).map(([name, text]) => {
        const checked = parseGlobalValue(plan.globals.find((g) => g.name === name) as ObjectGlobal, text);
        return [name, 'value' in checked ? checked.value : text];
      })),
      mapSizes: Object.fromEntries(Object.entries(mapSizes).map(([name, text]) => [name, parseMapSizeText(text) as MapSize])),
      attach: network,
    };
    await attachOn(studio, [target], uri, choices);
  } catch (error) {
    if (error instanceof Cancelled) return;
    throw error;
  }
}

export function activate(studio: Studio): void {
  studio.context.subscriptions.push(
    vscode.commands.registerCommand('ebpfStudio.attachWithParameters', (argument: unknown) =>
      attachWithParameters(studio, argument).catch((err: unknown) => void vscode.window.showErrorMessage(`eBPF: ${(err as Error).message}`)),
    ),
  );
}
