// Renders the program and events views in headless Chromium with statistics and ring-buffer records recorded
// from a real probe: run counts and rates, records decoded through BTF, filter, pause, dropped count.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchBrowser, missingPrerequisite, openLiveView, type LiveViewPage } from './live-view-harness';
import { skipUnless } from '../kernel/kernel-prerequisites';
import { eventsBatch, programStats, recording } from './recorded-live-data';

const missing = skipUnless(missingPrerequisite(), 'webview tests');
let browser: Browser | undefined;

before(async () => {
  if (missing) return;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const cell = (view: LiveViewPage, program: string, col: string) => view.page.locator(`tr[data-program="${program}"] td[data-col="${col}"]`).textContent();

test('program view: run count, events/s, ns per event and CPU % from the last two samples', { skip: missing }, async () => {
  const view = await openLiveView(browser as Browser, 'program');
  await view.post({ type: 'init', target: { view: 'program', title: 'syscall-latency', target: 'local', session: 's1' }, refreshIntervalMs: 250, paused: false });
  const n = recording.stats.length;
  for (let i = 0; i < n; i++) await view.post(programStats(i));
  const [a, b] = [recording.stats[n - 2], recording.stats[n - 1]];
  for (const p of b.programs) {
    const before = a.programs.find((x) => x.id === p.id)!;
    const seconds = (b.time - a.time) / 1000;
    const runs = p.runCnt - before.runCnt;
    const ns = p.runTimeNs - before.runTimeNs;
    assert.ok(p.runCnt > 0, `${p.name} ran (statistics were on)`);
    assert.equal(await cell(view, p.name, 'runs'), p.runCnt.toLocaleString('en-US'));
    assert.equal(await cell(view, p.name, 'rate'), (runs / seconds).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }));
    assert.equal(await cell(view, p.name, 'avg'), (ns / runs).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }));
    assert.equal(await cell(view, p.name, 'cpu'), ((ns / (seconds * 1e9)) * 100).toFixed(3));
  }
  await view.screenshot('program-view');
  await view.post({ type: 'programStats', time: b.time + 1000, programs: b.programs, statsEnabled: false, statsError: 'kernel older than 5.8' });
  assert.match((await view.page.locator('.banner').textContent()) ?? '', /statistics are off for this session: kernel older than 5\.8/);
  assert.deepEqual(view.errors, []);
});

test('events view: records decoded through the object BTF, newest first, with rate, filter, pause and drops', { skip: missing }, async () => {
  const view = await openLiveView(browser as Browser, 'events');
  await view.post({ type: 'init', target: { view: 'events', title: 'slow syscalls', target: 'local', session: 's1', map: 'events', eventType: 'event' }, refreshIntervalMs: 250, paused: false });
  const batches = recording.events.batches;
  const total = batches.reduce((n, b) => n + b.records.length, 0);
  for (let i = 0; i < batches.length; i++) await view.post(eventsBatch(i));
  await view.waitForText('.status', `${total} events`);
  const headers = await view.page.$$eval('.vt-header .vt-cell', (els) => els.map((e) => e.textContent));
  assert.deepEqual(headers, ['received', 'ts_ns', 'latency_ns', 'tgid', 'nr', 'ret', 'comm']);
  const newest = Buffer.from(batches.at(-1)!.records.at(-1)!, 'base64');
  const firstRow = await view.page.$$eval('.vt-row:not([hidden])', (rows) => Array.from(rows[0].children as ArrayLike<{ textContent: string | null }>, (c) => c.textContent));
  assert.deepEqual(firstRow.slice(2, 5), [String(newest.readBigUInt64LE(8)), String(newest.readUInt32LE(16)), String(newest.readUInt32LE(20))]);
  assert.equal(firstRow[6], newest.toString('latin1', 32, 48).replace(/\0.*$/s, ''));
  await view.screenshot('events-view');

  const comm = firstRow[6] as string;
  const matching = batches.flatMap((b) => b.records).filter((r) => Buffer.from(r, 'base64').toString('latin1', 32, 48).replace(/\0.*$/s, '').toLowerCase().includes(comm.toLowerCase())).length;
  await view.page.locator('vscode-textfield[data-role="filter"] input').fill(comm);
  await view.waitForText('.status', `${matching} shown`);
  await view.page.locator('vscode-textfield[data-role="filter"] input').fill('');

  await view.page.locator('vscode-button[data-action="pause"]').click();
  const before = await view.page.$$eval('.vt-row:not([hidden])', (rows) => rows[0].textContent);
  await view.post({ ...eventsBatch(0), dropped: 1234 });
  await view.waitForText('.status', `paused: ${batches[0].records.length} new since`);
  assert.equal(await view.page.$$eval('.vt-row:not([hidden])', (rows) => rows[0].textContent), before, 'paused: the table does not move');
  assert.equal(await view.page.locator('[data-role="dropped"]').textContent(), 'Dropped 1,234 events (the agent\'s queue or the kernel buffer was full; the rate is higher than the view can take).');
  await view.screenshot('events-view-paused-dropped');
  const sent = await view.sent();
  assert.ok(sent.some((m) => m.type === 'setPaused' && m.paused === true));
  assert.deepEqual(view.errors, []);
});
