// Renders the map view in headless Chromium with map snapshots recorded from a real probe and checks what is
// on screen: decoded values, sorting, filter, top-N, rates and changes, HTML shown as text, export, map gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { parseBtf } from '../../engine/btf/btf-types';
import { compileMapDecoder, decodeEntries } from '../../engine/btf/value-decoder';
import { launchBrowser, missingPrerequisite, openLiveView, type LiveViewPage } from './live-view-harness';
import { skipUnless } from '../kernel/kernel-prerequisites';
import { mapData, recording } from './recorded-live-data';

const missing = skipUnless(missingPrerequisite(), 'webview tests');
let browser: Browser | undefined;
let view: LiveViewPage;
/** What the host says about the pace of reads (engine/live-data/refresh-pacing.ts); markup in it stays text. */
const REFRESH_NOTE = 'refreshing every 5 s: 100,000 entries (a read costs the agent 48 ms of CPU; <b>slower</b> than the 1 s asked)';

before(async () => {
  if (missing) return;
  browser = await launchBrowser();
  view = await openLiveView(browser, 'map');
  await view.post({ type: 'init', target: { view: 'map', title: 'syscalls per process', target: 'local', session: 's1', map: 'syscalls' }, refreshIntervalMs: 1000, paused: false });
  await view.post(mapData('syscalls', 6, true));
  await view.post({ ...mapData('syscalls', 7), refreshNote: REFRESH_NOTE });
});
after(async () => {
  await browser?.close();
});

/** The recorded entries, decoded independently of the view (same decoder module as the CLI). */
function expectedEntries(i: number) {
  const m = recording.maps.syscalls;
  const s = m.snapshots[i];
  const btf = parseBtf(Buffer.from(m.btf as string, 'base64'));
  const layout = { keySize: m.info.keySize, valueSize: m.info.valueSize, keyTypeId: m.info.btfKeyTypeId, valueTypeId: m.info.btfValueTypeId, perCpu: false, possibleCpus: m.possibleCpus };
  return decodeEntries(compileMapDecoder(layout, btf), m.info.keySize, Buffer.from(s.keys, 'base64'), Buffer.from(s.values, 'base64'), s.count) as
    { key: { tgid: number; nr: number }; value: { count: number; total_ns: number; comm: string } }[];
}

async function rows(): Promise<string[][]> {
  return view.page.$$eval('.vt-row:not([hidden])', (els) => els.map((r) => Array.from(r.children as ArrayLike<{ textContent: string | null }>, (c) => c.textContent ?? '')));
}
async function headers(): Promise<string[]> {
  return view.page.$$eval('.vt-header .vt-cell', (els) => els.map((c) => c.textContent ?? ''));
}

test('shows every entry with keys and values decoded through BTF', { skip: missing }, async () => {
  const entries = expectedEntries(7);
  assert.match(await view.page.locator('.status').textContent() ?? '', new RegExp(`syscalls \\(hash\\) · ${entries.length.toLocaleString('en-US')} entries`));
  assert.deepEqual(await headers(), ['key.tgid', 'key.nr', 'value.count', 'value.count Δ/s', 'value.total_ns', 'value.total_ns Δ/s', 'value.max_ns', 'value.comm']);
  const first = (await rows())[0];
  const e = entries[0];
  assert.deepEqual([first[0], first[1], first[2], first[4], first[7]], [String(e.key.tgid), String(e.key.nr), String(e.value.count), String(e.value.total_ns), e.value.comm]);
  assert.equal(await view.page.locator('.vt-body .vt-row').count() < 100, true, 'rows are virtualised: only those in view exist');
  await view.screenshot('map-view');
});

test('says how often it refreshes and why, as the host paced it, as text', { skip: missing }, async () => {
  const status = await view.page.locator('.status').textContent() ?? '';
  assert.ok(status.includes(` · ${REFRESH_NOTE}`), status);
  assert.equal(await view.page.locator('.status b').count(), 0);
});

test('sorts by any column, both ways', { skip: missing }, async () => {
  const entries = expectedEntries(7);
  const maxCount = Math.max(...entries.map((e) => e.value.count));
  await view.page.locator('.vt-header .vt-cell', { hasText: /^value\.count$/ }).click();
  assert.equal(await view.page.locator('.vt-header .vt-cell[aria-sort="descending"]').textContent(), 'value.count');
  const desc = await rows();
  assert.equal(Number(desc[0][2]), maxCount);
  for (let r = 1; r < desc.length; r++) assert.ok(Number(desc[r - 1][2]) >= Number(desc[r][2]));
  await view.page.locator('.vt-header .vt-cell', { hasText: /^value\.comm$/ }).click();
  const byName = (await rows()).map((r) => r[7]);
  assert.deepEqual(byName, [...byName].sort());
  await view.screenshot('map-view-sorted');
});

test('filter and top-N, and markup in a process name is shown as text', { skip: missing }, async () => {
  await view.page.locator('vscode-textfield[data-role="filter"] input').fill('<img src=x>');
  const filtered = await rows();
  const expected = expectedEntries(7).filter((e) => e.value.comm === '<img src=x>').length;
  assert.ok(expected > 0, 'the recording has the process named <img src=x>');
  assert.match(await view.page.locator('.status').textContent() ?? '', new RegExp(` · ${expected} shown`));
  assert.ok(filtered.length > 0 && filtered.every((r) => r[7] === '<img src=x>'));
  assert.equal(await view.page.locator('.vt-window img').count(), 0, 'no element was created from the text');
  await view.screenshot('map-view-filter-html-text');
  await view.page.locator('vscode-textfield[data-role="filter"] input').fill('');
  await view.page.locator('vscode-textfield[data-role="top-n"] input').fill('5');
  assert.equal((await rows()).length, 5);
  assert.match(await view.page.locator('.status').textContent() ?? '', /· 5 shown/);
  await view.page.locator('vscode-textfield[data-role="top-n"] input').fill('');
});

test('rates per second and changed cells come from the previous snapshot of the same key', { skip: missing }, async () => {
  await view.page.locator('.vt-header .vt-cell', { hasText: /^value\.count Δ\/s$/ }).click();
  const before = new Map(expectedEntries(6).map((e) => [`${e.key.tgid}/${e.key.nr}`, e.value.count]));
  const seconds = (recording.maps.syscalls.snapshots[7].time - recording.maps.syscalls.snapshots[6].time) / 1000;
  const top = (await rows())[0];
  const previous = before.get(`${top[0]}/${top[1]}`);
  assert.ok(previous !== undefined);
  const rate = (Number(top[2]) - previous) / seconds;
  assert.equal(top[3], `+${rate >= 100 ? Math.round(rate) : rate.toFixed(1)}`);
  assert.ok(await view.page.locator('.vt-row:not([hidden]) .vt-cell.changed').count() > 0, 'changed cells are highlighted');
});

test('export sends the shown rows as CSV; an invalid message is ignored; a vanished map is said so', { skip: missing }, async () => {
  await view.page.locator('vscode-button[data-action="export-csv"]').click();
  const sent = await view.sent();
  const exported = sent.find((m) => m.type === 'export') as { content: string; suggestedName: string } | undefined;
  assert.ok(exported);
  assert.equal(exported.suggestedName, 'syscalls.csv');
  const lines = exported.content.trim().split('\n');
  assert.equal(lines[0], 'key.tgid,key.nr,value.count,value.total_ns,value.max_ns,value.comm');
  assert.equal(lines.length, expectedEntries(7).length + 1);
  await view.post({ type: 'mapData', time: 1, readMs: 1, info: recording.maps.syscalls.info, possibleCpus: 2, count: 99999, keys: new Uint8Array(8), values: new Uint8Array(8) });
  await view.post({ type: 'surprise', html: '<b>x</b>' });
  assert.match(await view.page.locator('.status').textContent() ?? '', new RegExp(`${expectedEntries(7).length.toLocaleString('en-US')} entries`));
  await view.post({ type: 'status', state: 'gone', message: 'Map gone: map "syscalls" of session s1 no longer exists.' });
  assert.equal(await view.page.locator('.banner.error').textContent(), 'Map gone: map "syscalls" of session s1 no longer exists.');
  assert.ok(await view.page.locator('.banner.error').isVisible());
  assert.ok((await rows()).length > 0, 'the last data stays visible');
  await view.screenshot('map-view-map-gone');
  assert.deepEqual(view.errors, []);
});

test('a stack-trace map shows each stack id with its frames, named as the host sends names, markup as text', { skip: missing }, async () => {
  const stacks = await openLiveView(browser!, 'map');
  await stacks.post({ type: 'init', target: { view: 'map', title: 'stacks', target: 'local', session: 's1', map: 'stackmap' }, refreshIntervalMs: 1000, paused: false });
  const info = { id: 9, name: 'stackmap', type: 'stack_trace', keySize: 4, valueSize: 32, maxEntries: 16, flags: 0, btfId: 0, btfKeyTypeId: 0, btfValueTypeId: 0, perCpu: false };
  const keys = Buffer.alloc(8);
  keys.writeUInt32LE(3, 0);
  keys.writeUInt32LE(7, 4);
  const values = Buffer.alloc(64);
  values.writeBigUInt64LE(0xffffffff81000342n, 0);
  values.writeBigUInt64LE(0x55d0c0a01139n, 8);
  values.writeBigUInt64LE(0xffffffff81000101n, 32);
  const message = { type: 'mapData', time: 1000, readMs: 1, info, possibleCpus: 2, count: 2, keys: new Uint8Array(keys), values: new Uint8Array(values) };
  await stacks.post({ ...message, frameNames: { '0xffffffff81000342': '__schedule+0x42', '0xffffffff81000101': '<b>do_one</b>+0x1' } });
  const shown = async () => stacks.page.$$eval('.vt-row:not([hidden])', (els) => els.map((r) => Array.from(r.children as ArrayLike<{ textContent: string | null }>, (c) => c.textContent ?? '')));
  assert.deepEqual(await stacks.page.$$eval('.vt-header .vt-cell', (els) => els.map((c) => c.textContent ?? '')), ['stack id', 'frames']);
  assert.deepEqual((await shown()).sort(), [['3', '__schedule+0x42 ← 0x55d0c0a01139'], ['7', '<b>do_one</b>+0x1']]);
  assert.equal(await stacks.page.locator('.vt-row b').count(), 0);
  // Names sent once stay: the next snapshot carries none, the frames are still named.
  await stacks.post({ ...message, time: 2000 });
  assert.deepEqual((await shown()).sort(), [['3', '__schedule+0x42 ← 0x55d0c0a01139'], ['7', '<b>do_one</b>+0x1']]);
  assert.deepEqual(stacks.errors, []);
});
