// Live-view panels (map, histogram, program, events): WebviewPanels with a strict CSP and nonce, a ready
// handshake, validated messages, a serializer per view so panels come back after a reload, and the feeds that
// poll the session's maps/stats (or stream its events) through the target's agent. Talks to Studio and the agent.
import * as vscode from 'vscode';
import { MapMirror } from '../../../engine/live-data/map-mirror';
import { RefreshPacing } from '../../../engine/live-data/refresh-pacing';
import { isStackTraceMap } from '../../../engine/live-data/stack-columns';
import { hexAddress, isKernelAddress, stackAddresses } from '../../../engine/live-data/stack-symbols';
import type { BtfCache, MapSelector, MapSnapshot } from '../../../engine/live-data/map-snapshot';
import { AgentRequestError, type AgentClient } from '../../../engine/targets/agent-client';
import type { AgentEvent } from '../../../protocol/agent-rpc';
import {
  MAX_REFRESH_MS, MIN_REFRESH_MS, parseSavedViewState, parseWebviewMessage,
  type HistogramSpec, type HostToWebview, type LiveViewKind, type LiveViewTarget, type WebviewToHost,
} from '../../../protocol/webview-messages';
import { templateHistogramSpec } from '../../../engine/templates/template-views';
import type { Studio } from '../studio';
import { sessionSource } from '../targets/session-sources';
import { createNonce, liveViewHtml } from './live-view-html';

const VIEW_TYPES: Record<LiveViewKind, string> = {
  map: 'ebpfStudio.mapView',
  histogram: 'ebpfStudio.histogramView',
  program: 'ebpfStudio.programView',
  events: 'ebpfStudio.eventsView',
};

/** Records handed to an events view per flush; beyond that (a flood) they are counted as dropped. */
const MAX_RECORDS_PER_FLUSH = 20_000;
const EVENTS_FLUSH_MS = 100;
/** Addresses per stackSymbols request (the protocol takes up to 65,536). */
const FRAME_NAMES_PER_REQUEST = 4096;

const openPanels = new Set<LiveViewPanel>();

/** Errors that mean the thing shown is not there any more (stop polling, say so). */
function isGone(err: unknown): boolean {
  return err instanceof AgentRequestError && (err.code === 'EMAPGONE' || err.code === 'ENOSESSION' || err.code === 'ECLOSED');
}

class LiveViewPanel {
  private ready = false;
  private disposed = false;
  private paused = false;
  private intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly btfCache: BtfCache = new Map();
  private readonly btfSent = new Set<number>();
  private stopFeed: (() => void) | undefined;
  /** A poll is running (a resume or a new interval never starts a second one). */
  private polling = false;
  /** The map as the agent last sent it, kept current with only what changed. */
  private mirror: { client: AgentClient; map: MapMirror } | undefined;
  /** Slows map reads that cost the agent more than its CPU budget at the picked interval. */
  private readonly pacing = new RefreshPacing();
  /** Stack-trace maps: addresses whose names the webview has (asked of the agent once each). */
  private readonly namedAddresses = new Set<string>();
  /** Events view: the object's BTF, sent with the first batch after each `ready`. */
  private eventsBtf: Uint8Array | undefined;
  private eventsBtfSent = false;

  constructor(private readonly studio: Studio, readonly panel: vscode.WebviewPanel, readonly target: LiveViewTarget) {
    this.intervalMs = studio.settings().refreshIntervalMs;
    const distWebviews = vscode.Uri.joinPath(studio.context.extensionUri, 'dist', 'webviews');
    panel.webview.options = { enableScripts: true, localResourceRoots: [distWebviews] };
    panel.webview.html = liveViewHtml({
      view: target.view,
      cspSource: panel.webview.cspSource,
      nonce: createNonce(),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distWebviews, `${target.view}.js`)).toString(),
      codiconsUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(distWebviews, 'codicon.css')).toString(),
      title: target.title,
    });
    panel.title = target.title;
    panel.webview.onDidReceiveMessage((raw) => {
      const message = parseWebviewMessage(raw);
      if (message) void this.receive(message);
      else studio.log.appendLine(`[warn] live view ${target.title}: ignored an invalid message from the webview`);
    });
    panel.onDidDispose(() => this.dispose());
    openPanels.add(this);
  }

  /** Posts to the webview; nothing is sent before `ready` or after the panel closed. */
  post(message: HostToWebview): void {
    if (!this.ready || this.disposed) return;
    void this.panel.webview.postMessage(message).then(undefined, () => undefined);
  }

  private async receive(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.post({ type: 'init', target: this.target, refreshIntervalMs: this.intervalMs, paused: this.paused });
        this.startFeed();
        break;
      case 'setPaused':
        this.paused = message.paused;
        this.post({ type: 'status', state: this.paused ? 'paused' : 'live' });
        if (!this.paused && this.target.view !== 'events') this.schedule(0);
        break;
      case 'setRefreshInterval':
        this.intervalMs = Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, message.ms));
        break;
      case 'export':
        await saveExport(message.content, message.suggestedName, message.format);
        break;
      case 'openAsText': {
        const doc = await vscode.workspace.openTextDocument({ content: message.content, language: 'plaintext' });
        await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
        break;
      }
    }
  }

  private startFeed(): void {
    if (this.stopFeed) {
      // A reloaded webview (e.g. moved to another window) asked again: keep the running feed, resend the BTF.
      this.btfSent.clear();
      this.namedAddresses.clear();
      this.eventsBtfSent = false;
      return;
    }
    if (this.target.view === 'events') {
      void this.startEvents();
      return;
    }
    this.stopFeed = () => clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.disposed || this.paused) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  /** One poll; the next starts an interval after this one began (never two at once). */
  private async tick(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const started = Date.now();
    try {
      const client = await this.connect();
      if (!client) return;
      if (this.target.view === 'program') await this.pollStats(client);
      else await this.pollMap(client);
    } catch (err) {
      if (isGone(err)) {
        this.post({ type: 'status', state: 'gone', message: goneMessage(this.target, err as Error) });
        return;
      }
      this.post({ type: 'status', state: 'error', message: (err as Error).message });
    } finally {
      this.polling = false;
    }
    const interval = this.target.view === 'program' ? this.intervalMs : this.pacing.intervalMs(this.intervalMs);
    this.schedule(Math.max(0, interval - (Date.now() - started)));
  }

  /**
   * The target's agent. Sessions live only as long as their agent: when none is connected (e.g. after a
   * reload) a session's view says so instead of starting a fresh agent that never had it.
   */
  private async connect(): Promise<AgentClient | undefined> {
    const t = this.target;
    if (t.session && !this.studio.connectedTargets().includes(t.target)) {
      this.post({ type: 'status', state: 'gone', message: `Session ${t.session} on ${t.target} has ended (its agent is not running, e.g. after a window reload, so everything it attached was detached). Attach the probe again.` });
      return undefined;
    }
    return this.studio.connect(t.target);
  }

  private selector(): MapSelector {
    const t = this.target;
    if (t.pinned) return { pinned: t.pinned };
    if (t.mapId !== undefined) return { id: t.mapId };
    return { session: t.session, map: t.map };
  }

  private async pollMap(client: AgentClient): Promise<void> {
    const started = performance.now();
    // One mirror per agent connection: after the first read the agent sends only what changed.
    if (!this.mirror || this.mirror.client !== client) this.mirror = { client, map: new MapMirror(client, this.selector(), this.btfCache) };
    const snap = await this.mirror.map.refresh();
    const readMs = performance.now() - started;
    this.pacing.record(this.mirror.map.lastAgentCpuMs);
    const frameNames = isStackTraceMap(snap.info) ? await this.newFrameNames(client, snap) : {};
    const btfId = snap.info.btfId;
    const sendBtf = btfId !== 0 && snap.rawBtf && !this.btfSent.has(btfId);
    this.post({
      type: 'mapData', time: Date.now(), readMs, info: snap.info, possibleCpus: snap.layout.possibleCpus, count: snap.count,
      keys: snap.keys, values: snap.values, refreshNote: this.pacing.note(this.intervalMs, snap.count), ...(sendBtf ? { btf: snap.rawBtf } : {}),
      ...(Object.keys(frameNames).length ? { frameNames } : {}),
    });
    if (sendBtf) this.btfSent.add(btfId);
  }

  /**
   * Names of the kernel frame addresses of a stack-trace map the webview does not have yet, from the target's agent
   * (its kallsyms). User frames stay addresses here: which process recorded a stack is in another map.
   */
  private async newFrameNames(client: AgentClient, snap: MapSnapshot): Promise<Record<string, string>> {
    const wanted = new Set<string>();
    for (let i = 0; i < snap.count; i++) {
      for (const ip of stackAddresses(snap.values.subarray(i * snap.valueStride, (i + 1) * snap.valueStride))) {
        const hex = hexAddress(ip);
        if (isKernelAddress(ip) && !this.namedAddresses.has(hex)) wanted.add(hex);
      }
    }
    const names: Record<string, string> = {};
    const list = [...wanted];
    for (let from = 0; from < list.length; from += FRAME_NAMES_PER_REQUEST) {
      const part = list.slice(from, from + FRAME_NAMES_PER_REQUEST);
      const { frames } = await client.request('stackSymbols', { addresses: part });
      part.forEach((address, i) => {
        this.namedAddresses.add(address);
        if (frames[i] !== address) names[address] = frames[i];
      });
    }
    return names;
  }

  private async pollStats(client: AgentClient): Promise<void> {
    if (!this.target.session) throw new Error('The program view needs a session.');
    const stats = await client.request('stats', { session: this.target.session });
    this.post({ type: 'programStats', time: Date.now(), programs: stats.programs.map((p) => ({ name: p.name, id: p.id, runCnt: p.runCnt, runTimeNs: p.runTimeNs })), statsEnabled: stats.statsEnabled });
  }

  /** Streams the session's ring/perf buffer: records are batched every 100 ms; a flood is cut and counted. */
  private async startEvents(): Promise<void> {
    const t = this.target;
    const client = await this.connect().catch((err: Error) => {
      this.post({ type: 'status', state: 'error', message: err.message });
      return undefined;
    });
    if (!client || !t.session || !t.map) return;
    const session = t.session;
    const map = t.map;
    let eventStructs: string[] | undefined;
    try {
      const objectBtf = await client.request('objectBtf', { session });
      if (objectBtf.btf) this.eventsBtf = new Uint8Array(Buffer.from(objectBtf.btf, 'base64'));
      eventStructs = objectBtf.eventStructs?.[map];
    } catch (err) {
      this.post({ type: 'status', state: isGone(err) ? 'gone' : 'error', message: isGone(err) ? goneMessage(t, err as Error) : (err as Error).message });
      return;
    }
    if (this.disposed) return;
    let pending: Buffer[] = [];
    let agentDropped = 0;
    let viewDropped = 0;
    const unsubscribe = client.onEvent((event: AgentEvent) => {
      if (event.session !== session || event.map !== map) return;
      agentDropped = event.dropped;
      for (const record of event.records) {
        if (pending.length >= MAX_RECORDS_PER_FLUSH) viewDropped++;
        else pending.push(Buffer.from(record, 'base64'));
      }
    });
    let sentDropped = 0;
    const flush = setInterval(() => {
      const dropped = agentDropped + viewDropped;
      if (pending.length === 0 && dropped === sentDropped) return;
      const batch = pending;
      pending = [];
      sentDropped = dropped;
      const records = new Uint8Array(Buffer.concat(batch));
      const message: HostToWebview = { type: 'events', time: Date.now(), map, records, lengths: batch.map((b) => b.length), dropped };
      if (this.eventsBtf && !this.eventsBtfSent && this.ready) {
        message.btf = this.eventsBtf;
        if (eventStructs?.length) message.eventStructs = eventStructs;
        this.eventsBtfSent = true;
      }
      this.post(message);
    }, EVENTS_FLUSH_MS);
    let startedStream = false;
    this.stopFeed = () => {
      clearInterval(flush);
      unsubscribe();
      if (startedStream && !client.isClosed) void client.request('stopEvents', { session, map }).catch(() => undefined);
    };
    void client.closed.then((reason) => this.post({ type: 'status', state: 'gone', message: `The agent on ${t.target} ${reason}: the session and its stream ended.` }));
    try {
      const existing = (await client.request('sessions', {})).sessions.find((s) => s.session === session);
      if (!existing) throw new AgentRequestError(`No session "${session}" on ${t.target}.`, 'ENOSESSION');
      if (!existing.streams.includes(map)) {
        await client.request('streamEvents', { session, map });
        startedStream = true;
      }
      this.post({ type: 'status', state: 'live' });
    } catch (err) {
      this.post({ type: 'status', state: isGone(err) ? 'gone' : 'error', message: isGone(err) ? goneMessage(t, err as Error) : (err as Error).message });
    }
  }

  /** Asks the view for its current snapshot (Export Snapshot command). */
  requestExport(format: 'csv' | 'json'): void {
    this.post({ type: 'exportRequest', format });
  }

  private dispose(): void {
    this.disposed = true;
    this.ready = false;
    this.stopFeed?.();
    clearTimeout(this.timer);
    openPanels.delete(this);
  }
}

function goneMessage(t: LiveViewTarget, err: Error): string {
  const what = t.pinned ? `pinned map ${t.pinned}` : t.mapId !== undefined ? `map id ${t.mapId}` : t.map ? `map "${t.map}" of session ${t.session}` : `session ${t.session}`;
  return err.message.startsWith('Map gone') ? err.message : `Map gone: ${what} is no longer there (${err.message})`;
}

async function saveExport(content: string, suggestedName: string, format: 'csv' | 'json'): Promise<void> {
  const choice = await vscode.window.showQuickPick(['Save As…', 'Copy to Clipboard'], { placeHolder: `Export ${suggestedName}` });
  if (choice === 'Copy to Clipboard') {
    await vscode.env.clipboard.writeText(content);
    return;
  }
  if (!choice) return;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, suggestedName) : undefined,
    filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
  });
  if (!uri) return;
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(content));
}

const VIEW_NAMES: Record<LiveViewKind, string> = { map: 'Map', histogram: 'Histogram', program: 'Programs', events: 'Events' };

/** A tab title that tells views apart: "Histogram: hists · local", "Map: hists · local", "Events: events · web1". */
export function liveViewTitle(view: LiveViewKind, what: string, targetName: string): string {
  return `${VIEW_NAMES[view]}: ${what} · ${targetName}`;
}

/** What a command was invoked on: a targets-tree item ({targetName, session, map, program}) or a template's view. */
function targetFromArgument(view: LiveViewKind, argument: unknown, studio: Studio): LiveViewTarget | undefined {
  if (typeof argument !== 'object' || argument === null) return undefined;
  const a = argument as Record<string, unknown>;
  const text = (k: string) => (typeof a[k] === 'string' && a[k] ? (a[k] as string) : undefined);
  const targetName = text('targetName') ?? text('target') ?? studio.currentTarget();
  const session = text('session');
  const map = text('map');
  const pinned = text('pinned');
  const mapId = typeof a.mapId === 'number' ? a.mapId : undefined;
  if (view === 'program' ? !session : !(pinned || mapId !== undefined || (session && map))) return undefined;
  const what = view === 'program' ? session ?? '' : map ?? pinned ?? `map ${mapId}`;
  const source = session ? sessionSource(studio, targetName, session) : undefined;
  const declared = view === 'histogram' && source && map ? templateHistogramSpec(source, map) : undefined;
  const histogram = a.histogram && typeof a.histogram === 'object' ? (a.histogram as HistogramSpec) : declared;
  const target: LiveViewTarget = { view, title: liveViewTitle(view, what, targetName), target: targetName };
  if (session) target.session = session;
  if (map) target.map = map;
  if (pinned) target.pinned = pinned;
  if (mapId !== undefined) target.mapId = mapId;
  if (histogram) target.histogram = histogram;
  const eventType = text('eventType') ?? text('eventStruct');
  if (eventType) target.eventType = eventType;
  return target;
}

/** Without an argument: pick one of the connected targets' sessions and maps. */
async function pickTarget(view: LiveViewKind, studio: Studio): Promise<LiveViewTarget | undefined> {
  const items: (vscode.QuickPickItem & { target: LiveViewTarget })[] = [];
  for (const name of studio.connectedTargets()) {
    const client = await studio.connect(name).catch(() => undefined);
    if (!client) continue;
    const { sessions } = await client.request('sessions', {}).catch(() => ({ sessions: [] }));
    for (const s of sessions) {
      if (view === 'program') {
        items.push({ label: s.objectName, description: `${s.session} · ${name}`, target: { view, title: liveViewTitle(view, s.objectName, name), target: name, session: s.session } });
        continue;
      }
      for (const m of s.maps) {
        const streamable = m.type === 'ringbuf' || m.type === 'perf_event_array';
        if ((view === 'events') !== streamable || m.internal) continue;
        const source = sessionSource(studio, name, s.session);
        const histogram = view === 'histogram' && source ? templateHistogramSpec(source, m.name) : undefined;
        items.push({ label: m.name, description: `${m.type} · ${s.objectName} · ${name}`, target: { view, title: liveViewTitle(view, m.name, name), target: name, session: s.session, map: m.name, ...(histogram ? { histogram } : {}) } });
      }
    }
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No attached probe to show: attach one first (eBPF: Attach Probe), or open a map from the eBPF Targets view.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { placeHolder: `Open the ${view} view of…` }))?.target;
}

function openPanel(studio: Studio, target: LiveViewTarget): void {
  const existing = [...openPanels].find((p) => JSON.stringify(p.target) === JSON.stringify(target));
  if (existing) {
    existing.panel.reveal();
    return;
  }
  const panel = vscode.window.createWebviewPanel(VIEW_TYPES[target.view], target.title, vscode.ViewColumn.Active, { enableScripts: true, retainContextWhenHidden: true });
  new LiveViewPanel(studio, panel, target);
}

const COMMANDS: [string, LiveViewKind][] = [
  ['ebpfStudio.openMapView', 'map'],
  ['ebpfStudio.openHistogram', 'histogram'],
  ['ebpfStudio.openProgramStats', 'program'],
  ['ebpfStudio.openEvents', 'events'],
];

export function activate(studio: Studio): void {
  const subscriptions = studio.context.subscriptions;
  for (const [command, view] of COMMANDS) {
    subscriptions.push(vscode.commands.registerCommand(command, async (argument?: unknown) => {
      const target = targetFromArgument(view, argument, studio) ?? (await pickTarget(view, studio));
      if (target) openPanel(studio, target);
    }));
  }
  subscriptions.push(vscode.commands.registerCommand('ebpfStudio.exportSnapshot', async () => {
    const active = [...openPanels].find((p) => p.panel.active) ?? [...openPanels].at(-1);
    if (!active) {
      void vscode.window.showInformationMessage('Open a map, histogram, program or events view first.');
      return;
    }
    const format = await vscode.window.showQuickPick(['csv', 'json'], { placeHolder: 'Export the snapshot as' });
    if (format === 'csv' || format === 'json') active.requestExport(format);
  }));
  for (const [view, viewType] of Object.entries(VIEW_TYPES) as [LiveViewKind, string][]) {
    subscriptions.push(vscode.window.registerWebviewPanelSerializer(viewType, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        const target = parseSavedViewState(state);
        if (!target || target.view !== view) {
          panel.webview.html = '<!DOCTYPE html><html><body>This view could not be restored; open it again from the eBPF Targets view.</body></html>';
          return;
        }
        new LiveViewPanel(studio, panel, target);
      },
    }));
  }
  subscriptions.push({ dispose: () => [...openPanels].forEach((p) => p.panel.dispose()) });
}
