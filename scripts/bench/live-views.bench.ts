// Measures script time per update in Chromium while the map and histogram views take updates at 10 Hz:
// 64 buckets × 100 keys, and a 100,000-row table sorted by a counter (1% of rows change per update). Each
// update arrives by postMessage with its buffers transferred, as the extension's do. Script time is the
// handler's thread time from Chromium's trace (DevTools' "Scripting"; other processes on a busy machine do
// not inflate it); wall time from performance.now() around the handler is reported too. Budget: median < 5 ms
// (a bench, run by `npm run bench live-views`, not a test: the figures depend on the machine's load).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { BtfKind, parseBtf, type Btf } from '../../engine/btf/btf-types';
import { elfSection } from '../../engine/btf/elf-sections';
import type { MapInfo } from '../../protocol/agent-rpc';
import { launchBrowser, missingPrerequisite, openLiveView, type LiveViewPage } from '../../test/webview/live-view-harness';

const CLANG = '/usr/bin/clang-19';
const missing = missingPrerequisite() ?? (existsSync(CLANG) ? undefined : 'needs clang-19');
const UPDATES = 40;

const TARGET_MS = 5;
let browser: Browser | undefined;
let rawBtf: Uint8Array;
let btf: Btf;

before(async () => {
  if (missing) {
    console.log(`live-views bench skipped: ${missing}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'perf-shapes-'));
  try {
    const multiarch = arch() === 'x64' ? 'x86_64' : 'aarch64';
    execFileSync(CLANG, ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}-linux-gnu`, '-c', join(__dirname, '../../test/fixtures/live-data/perf-shapes.bpf.c'), '-o', join(dir, 'p.o')]);
    rawBtf = elfSection(new Uint8Array(readFileSync(join(dir, 'p.o'))), '.BTF')!;
    btf = parseBtf(rawBtf);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/**
 * Runs in the page: builds the map contents, delivers the first snapshot (with BTF) as the extension would,
 * then `updates` more at `intervalMs`, each a fresh copy with 1% of rows changed; returns the view's timings.
 */
const GENERATOR = `
window.__perf = {
  setUp(spec) {
    const btf = Uint8Array.from(atob(spec.btf), (c) => c.charCodeAt(0));
    const { info, count } = spec;
    const keys = new Uint8Array(count * info.keySize);
    const values = new Uint8Array(count * info.valueSize);
    const kdv = new DataView(keys.buffer);
    const vdv = new DataView(values.buffer);
    for (let i = 0; i < count; i++) {
      if (spec.kind === 'flows') {
        const k = i * 16, v = i * 40;
        kdv.setUint32(k, 0x0a000000 + i, true); kdv.setUint32(k + 4, 0xc0a80001, true); kdv.setUint16(k + 8, i & 0xffff, true); kdv.setUint16(k + 10, 443, true); kdv.setUint8(k + 12, 6);
        vdv.setUint32(v, (i * 7919) % 100000, true); vdv.setUint32(v + 8, i * 1500, true);
        for (let j = 0; j < 6; j++) vdv.setUint8(v + 16 + j, 'worker'.charCodeAt(j));
        vdv.setUint32(v + 32, 1000 + i, true);
      } else {
        kdv.setUint32(i * 4, 1000 + i, true);
        for (let s = 0; s < 64; s++) vdv.setUint32(i * 272 + s * 4, (i * 7 + s * 13) % 50, true);
        for (let j = 0; j < 4; j++) vdv.setUint8(i * 272 + 256 + j, 'proc'.charCodeAt(j));
      }
    }
    this.state = { spec, keys, values, time: Date.now() };
    this.post(btf);
  },
  post(btf) {
    const s = this.state;
    s.time += 100;
    const data = { type: 'mapData', time: s.time, readMs: 1, info: s.spec.info, possibleCpus: 2, count: s.spec.count, keys: s.keys, values: s.values };
    if (btf) data.btf = btf;
    // Transferred, not cloned: VS Code transfers the ArrayBuffers of a webview message on their last hop too.
    s.keys = new Uint8Array(s.keys);
    s.values = new Uint8Array(s.values);
    window.postMessage(data, '*', [data.keys.buffer, data.values.buffer]);
  },
  async run(updates, intervalMs) {
    const s = this.state;
    const before = (window.ebpfStudioTimings || []).length;
    for (let u = 0; u < updates; u++) {
      await new Promise((r) => setTimeout(r, intervalMs));
      const vdv = new DataView(s.values.buffer);
      const n = s.spec.count;
      for (let j = 0; j < Math.max(1, n / 100); j++) {
        const i = (Math.random() * n) | 0;
        if (s.spec.kind === 'flows') vdv.setUint32(i * 40, vdv.getUint32(i * 40, true) + 1 + ((Math.random() * 50) | 0), true);
        else { const o = i * 272 + ((Math.random() * 64) | 0) * 4; vdv.setUint32(o, vdv.getUint32(o, true) + 1, true); }
      }
      this.post();
    }
    await new Promise((r) => setTimeout(r, intervalMs));
    return window.ebpfStudioTimings.slice(before, before + updates);
  },
};
`;

function mapInfo(name: string, keyType: string, keyKind: BtfKind, valueType: string, keySize: number, valueSize: number, maxEntries: number): MapInfo {
  return {
    id: 77, name, type: 'hash', keySize, valueSize, maxEntries, flags: 0, btfId: 9,
    btfKeyTypeId: btf.findByName(keyType, keyKind)!.id, btfValueTypeId: btf.findByName(valueType, BtfKind.Struct)!.id, perCpu: false,
  };
}

function summarize(label: string, timings: number[], rate = `at 10 Hz (target < ${TARGET_MS} ms)`) {
  const sorted = [...timings].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const p95 = sorted[Math.floor(sorted.length * 0.95)];
  console.log(`${label} per update: median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, max ${sorted.at(-1)!.toFixed(2)} ms over ${timings.length} updates ${rate}; load average ${loadavg()[0].toFixed(1)}`);
  return { median, p95 };
}

interface TraceEvent { name: string; dur?: number; tdur?: number; args?: { data?: { url?: string } } }

/** Runs UPDATES updates under Chromium's tracer; returns the view handler's thread times (ms) and wall times (ms). */
async function measure(label: string, view: LiveViewPage, kind: string): Promise<number> {
  await browser!.startTracing(view.page, { categories: ['devtools.timeline'] });
  const wall = await view.page.evaluate(`window.__perf.run(${UPDATES}, 100)`) as number[];
  const trace = JSON.parse((await browser!.stopTracing()).toString('utf8')) as { traceEvents: TraceEvent[] };
  const handler = trace.traceEvents.filter((e) => e.name === 'FunctionCall' && e.tdur !== undefined && (e.args?.data?.url ?? '').endsWith(`/dist/webviews/${kind}.js`));
  const thread = handler.map((e) => (e.tdur as number) / 1000).filter((ms) => ms > 0.05).slice(-UPDATES);
  assert.equal(wall.length, UPDATES);
  assert.ok(thread.length >= UPDATES * 0.9, `found the handler's trace events (${thread.length})`);
  const cpu = summarize(`${label}: script (thread) time`, thread);
  summarize(`${label}: wall time (performance.now)`, wall);
  return cpu.median;
}

test('histogram view: 64 buckets × 100 keys at 10 Hz', { skip: missing, timeout: 120_000 }, async () => {
  const view = await openLiveView(browser as Browser, 'histogram');
  await view.post({ type: 'init', target: { view: 'histogram', title: 'perf', target: 'local', map: 'hists', session: 's' }, refreshIntervalMs: 100, paused: false });
  // Evaluated through the debugger protocol: the page's own CSP would refuse an injected script.
  await view.page.evaluate(GENERATOR);
  const info = mapInfo('hists', '__u32', BtfKind.Typedef, 'hist64', 4, 272, 128);
  await view.page.evaluate(`window.__perf.setUp(${JSON.stringify({ kind: 'hists', count: 100, info, btf: Buffer.from(rawBtf).toString('base64') })})`);
  await view.page.evaluate(`window.__perf.run(5, 100)`);
  const median = await measure('histogram 64×100', view, 'histogram');
  assert.match((await view.page.locator('.status').textContent()) ?? '', /100 keys · 64 log2 slots/);
  await view.screenshot('perf-histogram-64x100');
  assert.ok(median < TARGET_MS, `median ${median.toFixed(2)} ms < ${TARGET_MS} ms`);
});

test('map view: 100,000 rows sorted by a counter at 10 Hz', { skip: missing, timeout: 180_000 }, async () => {
  const view = await openLiveView(browser as Browser, 'map');
  await view.post({ type: 'init', target: { view: 'map', title: 'perf', target: 'local', map: 'flows', session: 's' }, refreshIntervalMs: 100, paused: false });
  await view.page.evaluate(GENERATOR);
  const info = mapInfo('flows', 'flow_key', BtfKind.Struct, 'flow_stats', 16, 40, 1000000);
  await view.page.evaluate(`window.__perf.setUp(${JSON.stringify({ kind: 'flows', count: 100_000, info, btf: Buffer.from(rawBtf).toString('base64') })})`);
  assert.match((await view.page.locator('.status').textContent()) ?? '', /100,000 entries/);
  await view.page.locator('.vt-header .vt-cell', { hasText: /^value\.packets$/ }).click();
  summarize('map 100,000 rows, warm-up (first sort)', await view.page.evaluate(`window.__perf.run(10, 100)`) as number[]);
  const median = await measure('map 100,000 rows sorted', view, 'map');
  const column = (await view.page.$$eval('.vt-header .vt-cell', (els) => els.map((e) => e.textContent))).indexOf('value.packets');
  const top = await view.page.$$eval('.vt-row:not([hidden])', (rows, c) => rows.slice(0, 3).map((r) => Number(r.children[c].textContent)), column);
  assert.ok(top[0] >= top[1] && top[1] >= top[2], `sorted descending: ${top.join(', ')}`);
  await view.screenshot('perf-map-100k');
  assert.ok(median < TARGET_MS, `median ${median.toFixed(2)} ms < ${TARGET_MS} ms`);
});

test('map view: 1,000,000 rows stay usable at the default 1 s refresh', { skip: missing, timeout: 300_000 }, async () => {
  const view = await openLiveView(browser as Browser, 'map');
  await view.post({ type: 'init', target: { view: 'map', title: 'perf', target: 'local', map: 'flows', session: 's' }, refreshIntervalMs: 1000, paused: false });
  await view.page.evaluate(GENERATOR);
  const info = mapInfo('flows', 'flow_key', BtfKind.Struct, 'flow_stats', 16, 40, 1000000);
  await view.page.evaluate(`window.__perf.setUp(${JSON.stringify({ kind: 'flows', count: 1_000_000, info, btf: Buffer.from(rawBtf).toString('base64') })})`);
  assert.match((await view.page.locator('.status').textContent()) ?? '', /1,000,000 entries/);
  await view.page.locator('.vt-header .vt-cell', { hasText: /^value\.packets$/ }).click();
  const wall = await view.page.evaluate(`window.__perf.run(5, 1000)`) as number[];
  const { median } = summarize('map 1,000,000 rows sorted, wall', wall, 'at 1 Hz (bound < 200 ms)');
  const column = (await view.page.$$eval('.vt-header .vt-cell', (els) => els.map((e) => e.textContent))).indexOf('value.packets');
  const top = await view.page.$$eval('.vt-row:not([hidden])', (rows, c) => rows.slice(0, 3).map((r) => Number(r.children[c].textContent)), column);
  assert.ok(top[0] >= top[1] && top[1] >= top[2], `sorted descending: ${top.join(', ')}`);
  assert.ok(await view.page.locator('.vt-body .vt-row').count() < 100, 'only the rows in view exist');
  await view.page.locator('.vt-body').evaluate((body) => { (body as unknown as { scrollTop: number }).scrollTop = 21_000_000; });
  await view.page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): { dataset: { row?: string } } | null } }).document;
    return Number(doc.querySelector('.vt-row:not([hidden])')?.dataset.row ?? 0) > 900000;
  });
  await view.screenshot('perf-map-1m-scrolled');
  assert.ok(median < 200, `an update of 1,000,000 rows takes ${median.toFixed(1)} ms (< 200 ms, a fifth of the refresh interval)`);
});
