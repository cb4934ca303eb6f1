// The program view: per program of a session, run count, events per second, average ns per event and
// estimated CPU %, from the agent's run_cnt/run_time_ns, as a table and over time on canvas. Talks to the host.
import { programRates, type ProgramRates, type ProgramSample } from '../../engine/live-data/program-rates';
import { csvField } from '../../engine/live-data/snapshot-export';
import type { ProgramStatsMessage } from '../../protocol/webview-messages';
import { el, setText } from '../shared/dom-builder';
import { LiveViewFrame } from '../shared/live-view-frame';
import { drawLineChart, seriesColor, type Series } from '../shared/line-chart';
import { applyPageStyle } from '../shared/page-style';
import { formatClock, formatCount, formatOneDecimal } from '../shared/display-format';

applyPageStyle();

const HISTORY = 300;

interface ProgramHistory {
  name: string;
  id: number;
  samples: ProgramSample[];
  rates: { t: number; r: ProgramRates }[];
}

const programs = new Map<string, ProgramHistory>();
let statsEnabled = true;

const { channel, toolbar, title } = new LiveViewFrame<ProgramStatsMessage>({
  dataType: 'programStats',
  takeData: takeStats,
  exportSnapshot,
});
const body = el('tbody');
const table = el('table', 'plain', [
  el('thead', '', [el('tr', '', ['program', 'id', 'run count', 'events/s', 'avg ns/event', 'est. CPU %'].map((h) => el('th', '', [h])))]),
  body,
]);
const legend = el('div', 'legend');
const eventsCanvas = el('canvas', '', [], { height: '160', 'aria-label': 'Events per second over time' });
const cpuCanvas = el('canvas', '', [], { height: '160', 'aria-label': 'CPU percent over time' });
document.body.append(toolbar.root, title, toolbar.banner, toolbar.status, table, legend,
  el('h3', '', ['Events per second']), eventsCanvas, el('h3', '', ['Estimated CPU % (of one CPU)']), cpuCanvas);

const fmt = (v: number | undefined, digits = 0) => (v === undefined ? '–' : digits ? formatOneDecimal(v) : formatCount(Math.round(v)));

function takeStats(message: ProgramStatsMessage): void {
  statsEnabled = message.statsEnabled;
  if (!statsEnabled) {
    toolbar.showStatus({ type: 'status', state: 'error', message: `Run-time statistics are off for this session${message.statsError ? `: ${message.statsError}` : ''}. Run counts and times stay 0.` });
  }
  for (const p of message.programs) {
    const key = `${p.id}`;
    let h = programs.get(key);
    if (!h) {
      h = { name: p.name, id: p.id, samples: [], rates: [] };
      programs.set(key, h);
    }
    const sample = { time: message.time, runCnt: p.runCnt, runTimeNs: p.runTimeNs };
    const before = h.samples.at(-1);
    h.samples.push(sample);
    if (h.samples.length > HISTORY) h.samples.shift();
    const r = before ? programRates(before, sample) : undefined;
    if (r) {
      h.rates.push({ t: message.time, r });
      if (h.rates.length > HISTORY) h.rates.shift();
    }
  }
  render(message.time);
}

function render(time: number): void {
  const list = [...programs.values()];
  body.replaceChildren(...list.map((h) => {
    const last = h.samples.at(-1);
    const r = h.rates.at(-1)?.r;
    return el('tr', '', [
      el('td', '', [h.name]),
      el('td', '', [String(h.id)]),
      el('td', '', [fmt(last?.runCnt)], { 'data-col': 'runs' }),
      el('td', '', [fmt(r?.eventsPerSecond, 1)], { 'data-col': 'rate' }),
      el('td', '', [fmt(r?.avgNsPerEvent, 1)], { 'data-col': 'avg' }),
      el('td', '', [r ? `${r.cpuPercent.toFixed(3)}` : '–'], { 'data-col': 'cpu' }),
    ], { 'data-program': h.name });
  }));
  legend.replaceChildren(...list.map((h, i) => {
    const swatch = el('i');
    swatch.style.background = seriesColor(i);
    return el('span', '', [swatch, h.name]);
  }));
  const series = (pick: (r: ProgramRates) => number): Series[] => list.map((h) => ({ label: h.name, points: h.rates.map((x) => ({ t: x.t, v: pick(x.r) })) }));
  drawLineChart(eventsCanvas, series((r) => r.eventsPerSecond), (v) => `${fmt(v)}/s`);
  drawLineChart(cpuCanvas, series((r) => r.cpuPercent), (v) => `${v.toFixed(2)} %`);
  setText(toolbar.status, `${list.length} programs · statistics ${statsEnabled ? 'on' : 'off'} · updated ${formatClock(time)}`);
}

/** Every sample kept, per program: time, run count, run time, and the rates derived from the previous sample. */
function exportSnapshot(format: 'csv' | 'json'): void {
  const rows = [...programs.values()].flatMap((h) => h.samples.map((sample, k) => {
    const r = k > 0 ? programRates(h.samples[k - 1], sample) : undefined;
    return { program: h.name, id: h.id, time: new Date(sample.time).toISOString(), runCnt: sample.runCnt, runTimeNs: sample.runTimeNs,
      eventsPerSecond: r?.eventsPerSecond ?? null, avgNsPerEvent: r?.avgNsPerEvent ?? null, cpuPercent: r?.cpuPercent ?? null };
  }));
  if (format === 'json') {
    channel.send({ type: 'export', format, content: `${JSON.stringify(rows, null, 1)}\n`, suggestedName: 'program-stats.json' });
    return;
  }
  const header = ['program', 'id', 'time', 'runCnt', 'runTimeNs', 'eventsPerSecond', 'avgNsPerEvent', 'cpuPercent'] as const;
  const lines = [header.join(','), ...rows.map((r) => header.map((h) => csvField(r[h] === null ? '' : String(r[h]))).join(','))];
  channel.send({ type: 'export', format, content: `${lines.join('\n')}\n`, suggestedName: 'program-stats.csv' });
}
