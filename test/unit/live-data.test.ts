// Unit tests of the live views' pure parts: histogram detection/percentiles/libbpf-tools text, table columns,
// the map table model (key matching, incremental sort, filter, top-N), CSV escaping and message validation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BtfKind, parseBtf, type Btf } from '../../engine/btf/btf-types';
import { elfSection } from '../../engine/btf/elf-sections';
import type { MapLayout } from '../../engine/btf/value-decoder';
import { bucketRange, detectHistogram, extractHistograms, formatBucket, formatValue, libbpfToolsText, percentile } from '../../engine/live-data/histogram';
import { MapTableModel } from '../../engine/live-data/map-table-model';
import { csvField, snapshotCsv } from '../../engine/live-data/snapshot-export';
import { buildTableColumns } from '../../engine/live-data/table-columns';
import { programRates } from '../../engine/live-data/program-rates';
import { parseHostMessage, parseWebviewMessage } from '../../protocol/webview-messages';
import type { MapInfo } from '../../protocol/agent-rpc';

const CLANG = '/usr/bin/clang-19';
let btf: Btf | undefined;
let dir = '';

before(() => {
  if (!existsSync(CLANG)) {
    if (process.env.CI === 'true') throw new Error('clang-19 missing (required in CI)');
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'live-data-test-'));
  const multiarch = arch() === 'x64' ? 'x86_64' : 'aarch64';
  execFileSync(CLANG, ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}-linux-gnu`, '-c', join(__dirname, '../fixtures/live-data/syscall-latency.bpf.c'), '-o', join(dir, 'p.o')]);
  btf = parseBtf(elfSection(new Uint8Array(readFileSync(join(dir, 'p.o'))), '.BTF')!);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const info = (over: Partial<MapInfo>): MapInfo => ({
  id: 1, name: 'm', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024, flags: 0, btfId: 1, btfKeyTypeId: 0, btfValueTypeId: 0, perCpu: false, ...over,
});

test('log2 bucket ranges, human units and percentiles interpolated inside buckets', () => {
  const spec = { scale: 'log2' as const, unit: 'ns' as const };
  assert.deepEqual(bucketRange(spec, 0), [0, 1]);
  assert.deepEqual(bucketRange(spec, 1), [2, 3]);
  assert.deepEqual(bucketRange(spec, 10), [1024, 2047]);
  assert.equal(formatBucket(spec, 10), '1.02 µs – 2.05 µs');
  assert.equal(formatValue(1536, 'ns'), '1.54 µs');
  assert.equal(formatValue(2_500_000, 'us'), '2.5 s');
  assert.equal(formatValue(42, ''), '42');
  // 100 samples: 50 in [4,7], 40 in [8,15], 10 in [16,31].
  const counts = new Array(8).fill(0);
  counts[2] = 50;
  counts[3] = 40;
  counts[4] = 10;
  assert.equal(percentile(counts, spec, 0.5), 8); // end of bucket 2: 4 + 50/50 * 4
  assert.equal(percentile(counts, spec, 0.9), 16); // end of bucket 3
  assert.equal(percentile(counts, spec, 0.95), 24); // half into [16, 32)
  assert.equal(percentile([0, 0], spec, 0.5), undefined);
  const linear = { scale: 'linear' as const, unit: 'ms' as const, base: 100, step: 10 };
  assert.deepEqual(bucketRange(linear, 3), [130, 139]);
});

test('libbpf-tools text layout matches print_log2_hist and print_linear_hist', () => {
  const text = libbpfToolsText([0, 3, 10, 1], { scale: 'log2', unit: 'us' });
  assert.equal(text, [
    '     usecs               : count    distribution',
    '         0 -> 1          : 0        |                                        |',
    '         2 -> 3          : 3        |************                            |',
    '         4 -> 7          : 10       |****************************************|',
    '         8 -> 15         : 1        |****                                    |',
    '',
  ].join('\n'));
  const linear = libbpfToolsText([0, 2, 0, 4], { scale: 'linear', unit: '', base: 0, step: 5 }, 'kbytes');
  assert.equal(linear, [
    '     kbytes        : count     distribution',
    '        5          : 2        |********************                    |',
    '        15         : 4        |****************************************|',
    '',
  ].join('\n'));
  assert.equal(libbpfToolsText([0, 0], { scale: 'log2', unit: '' }), '');
});

test('histogram shapes are detected from BTF: struct with slots[] per key, and counters indexed by slot', (t) => {
  if (!btf) return t.skip('clang-19 not installed');
  const u32 = btf.findByName('__u32', BtfKind.Typedef)!.id;
  const u64 = btf.findByName('__u64', BtfKind.Typedef)!.id;
  const hist = btf.findByName('hist', BtfKind.Struct)!.id;
  const perKey: MapLayout = { keySize: 4, valueSize: 144, keyTypeId: u32, valueTypeId: hist, perCpu: false, possibleCpus: 2 };
  const shape = detectHistogram(info({ name: 'lat_ns_hists', valueSize: 144 }), perKey, btf);
  assert.ok(shape && shape.kind === 'slots-field');
  assert.equal(shape.slotCount, 32);
  assert.equal(shape.spec.unit, 'ns');
  // Two keys: slot 3 = 5 and slot 4 = 1 for the first, slot 3 = 2 for the second.
  const values = new Uint8Array(288);
  const dv = new DataView(values.buffer);
  dv.setUint32(12, 5, true);
  dv.setUint32(16, 1, true);
  dv.setUint32(144 + 12, 2, true);
  const set = extractHistograms(shape, perKey, true, new Uint8Array(8), values, 2);
  assert.equal(set.perEntry.length, 2);
  assert.equal(set.total[3], 7);
  assert.equal(set.total[4], 1);
  const slotIndexed: MapLayout = { keySize: 4, valueSize: 8, keyTypeId: u32, valueTypeId: u64, perCpu: true, possibleCpus: 2 };
  const arrayShape = detectHistogram(info({ name: 'lat_slots', type: 'percpu_array', maxEntries: 32 }), slotIndexed, btf);
  assert.ok(arrayShape && arrayShape.kind === 'slot-indexed');
  const keys = new Uint8Array(8);
  new DataView(keys.buffer).setUint32(4, 5, true);
  const pcpu = new Uint8Array(32);
  const pdv = new DataView(pcpu.buffer);
  pdv.setBigUint64(16, 3n, true);
  pdv.setBigUint64(24, 4n, true);
  assert.equal(extractHistograms(arrayShape, slotIndexed, true, keys, pcpu, 2).total[5], 7, 'per-CPU counts summed');
  assert.equal(detectHistogram(info({ type: 'hash' }), slotIndexed, btf), undefined, 'a hash of u32 → u64 is not a histogram unless declared');
  const declared = detectHistogram(info({ type: 'hash' }), slotIndexed, btf, { scale: 'linear', unit: 'ms', base: 0, step: 10 });
  assert.ok(declared && declared.spec.scale === 'linear');
});

test('table columns flatten structs, keep strings as text and guess IPv4 columns', (t) => {
  if (!btf) return t.skip('clang-19 not installed');
  const key = btf.findByName('syscall_key', BtfKind.Struct)!.id;
  const stats = btf.findByName('syscall_stats', BtfKind.Struct)!.id;
  const layout: MapLayout = { keySize: 8, valueSize: 40, keyTypeId: key, valueTypeId: stats, perCpu: false, possibleCpus: 1 };
  const cols = buildTableColumns(layout, btf);
  assert.deepEqual(cols.map((c) => `${c.label}:${c.numeric ? 'n' : 't'}`), ['key.tgid:n', 'key.nr:n', 'value.count:n', 'value.total_ns:n', 'value.max_ns:n', 'value.comm:t']);
  const v = new Uint8Array(40);
  v.set(new TextEncoder().encode('<img src=x>'), 24);
  assert.equal(cols[5].text(new DataView(v.buffer), 0), '<img src=x>');
  const asAddress = buildTableColumns(layout, btf, { 'key.tgid': 'ipv4' });
  const k = new Uint8Array([10, 0, 0, 7, 0, 0, 0, 0]);
  assert.equal(asAddress[0].text(new DataView(k.buffer), 0), '10.0.0.7');
  const noBtf = buildTableColumns({ keySize: 2, valueSize: 2, perCpu: false, possibleCpus: 1 }, undefined);
  assert.equal(noBtf[0].text(new DataView(new Uint8Array([0xab, 0xcd]).buffer), 0), 'abcd');
});

function u32Snapshot(time: number, entries: [number, number][]) {
  const keys = new Uint8Array(entries.length * 4);
  const values = new Uint8Array(entries.length * 4);
  const kdv = new DataView(keys.buffer);
  const vdv = new DataView(values.buffer);
  entries.forEach(([k, v], i) => {
    kdv.setUint32(i * 4, k, true);
    vdv.setUint32(i * 4, v, true);
  });
  return { time, count: entries.length, keys, values };
}

function plainModel() {
  const layout: MapLayout = { keySize: 4, valueSize: 4, perCpu: false, possibleCpus: 1 };
  const num = (dv: DataView, off: number) => dv.getUint32(off, true);
  return new MapTableModel(layout, [
    { label: 'key', side: 'key', numeric: true, num, text: (dv, off) => String(num(dv, off)) },
    { label: 'value', side: 'value', numeric: true, num, text: (dv, off) => String(num(dv, off)), plainInt: { offset: 0, size: 4, signed: false } },
  ]);
}

test('the table model matches keys across snapshots (rates, changes) even when the order changes', () => {
  const m = plainModel();
  assert.deepEqual(m.viewColumns.map((c) => c.label), ['key', 'value', 'value Δ/s']);
  m.update(u32Snapshot(1000, [[1, 10], [2, 20], [3, 30]]));
  m.update(u32Snapshot(3000, [[3, 30], [1, 14], [4, 1]]));
  const rows = Array.from({ length: m.rowCount }, (_, r) => [m.cellText(r, 0), m.cellText(r, 1), m.cellText(r, 2), m.cellChanged(r, 1)]);
  assert.deepEqual(rows, [['3', '30', '0', false], ['1', '14', '+2', true], ['4', '1', '', true]]);
});

test('sorting stays correct when repaired incrementally, and falls back to a full sort after big changes', () => {
  const m = plainModel();
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647);
  const entries: [number, number][] = Array.from({ length: 5000 }, (_, i) => [i, random() % 100000]);
  m.update(u32Snapshot(0, entries));
  m.setSort({ column: 1, descending: true });
  const check = () => {
    for (let r = 1; r < m.rowCount; r++) assert.ok(Number(m.cellText(r - 1, 1)) >= Number(m.cellText(r, 1)), `row ${r} in order`);
  };
  check();
  for (let i = 0; i < 50; i++) entries[random() % entries.length][1] += random() % 500;
  m.update(u32Snapshot(1000, entries));
  assert.equal(m.lastSortKind, 'incremental');
  check();
  for (const e of entries) e[1] = random() % 100000;
  m.update(u32Snapshot(2000, entries));
  assert.equal(m.lastSortKind, 'full');
  check();
  m.setTopN(10);
  assert.equal(m.rowCount, 10);
  m.setTopN(0);
  m.setFilter('4999');
  assert.ok(m.rowCount >= 1 && Array.from({ length: m.rowCount }, (_, r) => m.cellText(r, 0) + m.cellText(r, 1)).every((s) => s.includes('4999')));
});

test('CSV fields are quoted and formula-looking text is defused', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('=SUM(A1)'), "'=SUM(A1)");
  assert.equal(csvField('-42'), '-42');
  const m = plainModel();
  const snap = u32Snapshot(0, [[1, 2]]);
  assert.equal(snapshotCsv(m.columns, m.layout, snap.keys, snap.values, [0]), 'key,value\n1,2\n');
});

test('program rates: events per second, ns per event, CPU share', () => {
  assert.deepEqual(programRates({ time: 0, runCnt: 0, runTimeNs: 0 }, { time: 2000, runCnt: 1000, runTimeNs: 50_000_000 }), { eventsPerSecond: 500, avgNsPerEvent: 50000, cpuPercent: 2.5 });
  assert.equal(programRates({ time: 0, runCnt: 5, runTimeNs: 1 }, { time: 1000, runCnt: 5, runTimeNs: 1 })?.avgNsPerEvent, undefined);
  assert.equal(programRates({ time: 5, runCnt: 0, runTimeNs: 0 }, { time: 5, runCnt: 1, runTimeNs: 1 }), undefined);
});

test('webview messages are validated on receipt in both directions', () => {
  const mapInfo = info({ keySize: 4, valueSize: 4 });
  const good = { type: 'mapData', time: 1, readMs: 1, info: mapInfo, possibleCpus: 2, count: 2, keys: new Uint8Array(8), values: new Uint8Array(8) };
  assert.ok(parseHostMessage(good));
  assert.equal(parseHostMessage({ ...good, count: 3 }), undefined, 'more entries than bytes');
  assert.equal(parseHostMessage({ ...good, keys: 'AAAA' }), undefined, 'bytes must be bytes');
  assert.equal(parseHostMessage({ ...good, info: { ...mapInfo, name: 5 } }), undefined);
  assert.equal(parseHostMessage({ type: 'status', state: 'exploded' }), undefined);
  assert.equal(parseHostMessage('<script>'), undefined);
  assert.ok(parseHostMessage({ type: 'init', target: { view: 'histogram', title: 't', target: 'local', histogram: { scale: 'log2', unit: 'us' } }, refreshIntervalMs: 1000, paused: false }));
  assert.equal(parseHostMessage({ type: 'init', target: { view: 'nope', title: 't', target: 'local' }, refreshIntervalMs: 1000, paused: false }), undefined);
  assert.equal(parseHostMessage({ type: 'events', time: 1, map: 'e', records: new Uint8Array(4), lengths: [4, 4], dropped: 0 }), undefined);
  assert.deepEqual(parseWebviewMessage({ type: 'ready', extra: 1 }), { type: 'ready' });
  assert.equal(parseWebviewMessage({ type: 'setRefreshInterval', ms: 5 }), undefined);
  assert.equal(parseWebviewMessage({ type: 'export', format: 'xml', content: '', suggestedName: 'a' }), undefined);
  assert.equal(parseWebviewMessage({ type: 'runCommand', command: 'rm -rf /' }), undefined);
});
