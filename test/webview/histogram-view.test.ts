// Renders the histogram view in headless Chromium with histograms recorded from a real probe and checks the
// bars, counts, percentiles, per-key picker, last interval, heatmap, open-as-text and the slot-indexed shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { formatValue, percentile } from '../../engine/live-data/histogram';
import { launchBrowser, missingPrerequisite, openLiveView, type LiveViewPage } from './live-view-harness';
import { skipUnless } from '../kernel/kernel-prerequisites';
import { mapData, recording } from './recorded-live-data';

const missing = skipUnless(missingPrerequisite(), 'webview tests');
let browser: Browser | undefined;
let view: LiveViewPage;
const SLOTS = 32;

before(async () => {
  if (missing) return;
  browser = await launchBrowser();
  view = await openLiveView(browser, 'histogram');
  await view.post({ type: 'init', target: { view: 'histogram', title: 'syscall latency', target: 'local', session: 's1', map: 'lat_ns_hists' }, refreshIntervalMs: 250, paused: false });
  for (let i = 0; i < recording.maps.lat_ns_hists.snapshots.length; i++) await view.post(mapData('lat_ns_hists', i));
});
after(async () => {
  await browser?.close();
});

/** Per-key slot counts read straight from the recorded bytes: key u32 tgid, value { u32 slots[32]; char comm[16] }. */
function recordedHists(i: number): { tgid: number; comm: string; slots: number[] }[] {
  const s = recording.maps.lat_ns_hists.snapshots[i];
  const keys = Buffer.from(s.keys, 'base64');
  const values = Buffer.from(s.values, 'base64');
  return Array.from({ length: s.count }, (_, e) => {
    const v = values.subarray(e * 144, (e + 1) * 144);
    return {
      tgid: keys.readUInt32LE(e * 4),
      comm: v.toString('latin1', 128, 144).replace(/\0.*$/s, ''),
      slots: Array.from({ length: SLOTS }, (_, k) => v.readUInt32LE(k * 4)),
    };
  });
}
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
const totals = (i: number) => Array.from({ length: SLOTS }, (_, k) => sum(recordedHists(i).map((h) => h.slots[k])));
const text = async (selector: string) => (await view.page.locator(selector).textContent())?.trim() ?? '';

test('bars, count, share and p50/p90/p99 of all keys since start', { skip: missing }, async () => {
  const last = recording.maps.lat_ns_hists.snapshots.length - 1;
  const counts = totals(last);
  const total = sum(counts);
  assert.equal(await text('[data-stat="total"] b'), total.toLocaleString('en-US'));
  const spec = { scale: 'log2' as const, unit: 'ns' as const };
  for (const [name, p] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) {
    assert.equal(await text(`[data-stat="${name}"] b`), formatValue(percentile(counts, spec, p) as number, 'ns'));
  }
  const first = counts.findIndex((c) => c > 0);
  const lastSlot = counts.length - 1 - [...counts].reverse().findIndex((c) => c > 0);
  assert.equal(await view.page.locator('.bars .count[data-slot]').count(), lastSlot - first + 1);
  const max = Math.max(...counts);
  const peak = counts.indexOf(max);
  assert.equal(await text(`.bars .count[data-slot="${peak}"]`), max.toLocaleString('en-US'));
  assert.equal(await text(`.bars .share[data-slot="${peak}"]`), `${((max / total) * 100).toFixed(1)}%`);
  const widths = await view.page.$$eval('.bars .bar', (bars) => bars.map((b) => (b as unknown as { style: { width: string } }).style.width));
  assert.match(widths[peak - first], /^100(\.00)?%$/);
  assert.match(await text(`.bars .range[data-slot="10"]`), /^1\.02 µs – 2\.05 µs$/);
  await view.screenshot('histogram-view');
});

test('per-key picker lists keys with their process name as text, and shows that key alone', { skip: missing }, async () => {
  const last = recording.maps.lat_ns_hists.snapshots.length - 1;
  const html = recordedHists(last).find((h) => h.comm === '<img src=x>');
  assert.ok(html, 'the recording has the process named <img src=x>');
  const option = view.page.locator('vscode-option', { hasText: '<img src=x>' }).first();
  assert.equal(await option.count(), 1);
  const value = await option.getAttribute('value');
  await view.page.evaluate((v) => {
    const select = (globalThis as unknown as { document: { querySelector(s: string): { value: string; dispatchEvent(e: unknown): void } } }).document.querySelector('vscode-single-select[data-role="key"]');
    select.value = v as string;
    select.dispatchEvent(new (globalThis as unknown as { Event: new (t: string) => unknown }).Event('change'));
  }, value);
  const picked = recordedHists(last).find((h) => String(h.tgid) === value);
  assert.ok(picked);
  assert.equal(await text('[data-stat="total"] b'), sum(picked.slots).toLocaleString('en-US'));
  assert.equal(await view.page.locator('.bars img').count(), 0);
  await view.screenshot('histogram-view-one-key');
  await view.page.evaluate(() => {
    const select = (globalThis as unknown as { document: { querySelector(s: string): { value: string; dispatchEvent(e: unknown): void } } }).document.querySelector('vscode-single-select[data-role="key"]');
    select.value = '*';
    select.dispatchEvent(new (globalThis as unknown as { Event: new (t: string) => unknown }).Event('change'));
  });
});

test('last interval shows the difference between the last two reads; the heatmap has drawn cells', { skip: missing }, async () => {
  const last = recording.maps.lat_ns_hists.snapshots.length - 1;
  const delta = sum(totals(last)) - sum(totals(last - 1));
  await view.page.evaluate(() => {
    const select = (globalThis as unknown as { document: { querySelector(s: string): { value: string; dispatchEvent(e: unknown): void } } }).document.querySelector('vscode-single-select[data-role="mode"]');
    select.value = 'interval';
    select.dispatchEvent(new (globalThis as unknown as { Event: new (t: string) => unknown }).Event('change'));
  });
  assert.equal(await text('[data-stat="total"] b'), delta.toLocaleString('en-US'));
  const painted = await view.page.$eval('canvas.heatmap', (c) => {
    const canvas = c as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null };
    const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    if (data) for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });
  assert.ok(painted >= 8, `heatmap cells drawn (${painted} of ${120 * 32} cells)`);
  assert.ok(await view.page.locator('canvas.heatmap').isVisible());
  await view.screenshot('histogram-view-last-interval');
});

test('Open as Text sends the libbpf-tools layout', { skip: missing }, async () => {
  await view.page.locator('vscode-button[data-action="open-text"]').click();
  const sent = await view.sent();
  const message = sent.filter((m) => m.type === 'openAsText').at(-1) as { content: string } | undefined;
  assert.ok(message);
  assert.match(message.content, /^ {5}nsecs {15}: count {4}distribution$/m);
  assert.match(message.content, /^ +\d+ -> \d+ +: \d+ +\|\**\s*\|$/m);
});

test('an array of counters indexed by slot is detected as one histogram', { skip: missing, timeout: 60_000 }, async () => {
  const slots = await openLiveView(browser as Browser, 'histogram');
  await slots.post({ type: 'init', target: { view: 'histogram', title: 'all syscalls', target: 'local', session: 's1', map: 'lat_ns_slots' }, refreshIntervalMs: 250, paused: false });
  const n = recording.maps.lat_ns_slots.snapshots.length;
  for (let i = 0; i < n; i++) await slots.post(mapData('lat_ns_slots', i));
  const s = recording.maps.lat_ns_slots.snapshots[n - 1];
  const values = Buffer.from(s.values, 'base64');
  let total = 0;
  for (let k = 0; k < s.count; k++) total += Number(values.readBigUInt64LE(k * 8));
  assert.equal((await slots.page.locator('[data-stat="total"] b').textContent())?.trim(), total.toLocaleString('en-US'));
  assert.match((await slots.page.locator('.status').textContent()) ?? '', /lat_ns_slots \(array\) · 32 log2 slots/);
  await slots.screenshot('histogram-view-slot-indexed');
  const notHistogram = await openLiveView(browser as Browser, 'histogram');
  await notHistogram.post({ type: 'init', target: { view: 'histogram', title: 'syscalls', target: 'local', session: 's1', map: 'syscalls' }, refreshIntervalMs: 250, paused: false });
  await notHistogram.post(mapData('syscalls', 0));
  assert.match((await notHistogram.page.locator('.banner').textContent()) ?? '', /does not look like a histogram/);
  assert.deepEqual([...view.errors, ...slots.errors, ...notHistogram.errors], []);
});
