// The histogram view's model (engine/live-data/histogram-view-model): since start vs last interval, a key chosen
// and gone, the picker's stable order, heatmap columns, and the CSV/JSON/libbpf-tools text exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistogramRead } from '../../engine/live-data/histogram-view-model';
import { ALL_KEYS, HistogramViewModel } from '../../engine/live-data/histogram-view-model';

const SLOTS = 4;

/** A read of cumulative per-key counts, e.g. { '1 bash': [0, 2, 1, 0] }. */
function read(byKey: Record<string, number[]>, time: number): HistogramRead {
  const keyIds = Object.keys(byKey).map((label) => label.split(' ')[0]);
  const perEntry = Object.values(byKey).map((counts) => Float64Array.from(counts));
  const total = new Float64Array(SLOTS);
  for (const counts of perEntry) counts.forEach((c, s) => (total[s] += c));
  return { set: { perEntry, total }, keyIds, labels: Object.keys(byKey), time };
}

function model(): HistogramViewModel {
  const m = new HistogramViewModel(() => SLOTS);
  m.spec = { scale: 'log2', unit: 'us' };
  return m;
}

test('since start shows the cumulative counts; the last interval the difference from the read before', () => {
  const m = model();
  m.take(read({ '1 bash': [0, 2, 1, 0], '2 sshd': [1, 0, 0, 0] }, 1));
  assert.deepEqual([...(m.shownCounts() ?? [])], [1, 2, 1, 0]);
  m.range = 'interval';
  assert.deepEqual([...(m.shownCounts() ?? [])], [0, 0, 0, 0], 'no interval before the second read');
  m.take(read({ '1 bash': [0, 5, 1, 0], '2 sshd': [1, 0, 0, 3] }, 2));
  assert.deepEqual([...(m.shownCounts() ?? [])], [0, 3, 0, 3]);
  assert.deepEqual(m.summary(m.shownCounts() as Float64Array), { total: 6, max: 3, first: 1, last: 3 });
});

test('a chosen key narrows every figure to it, and falls back to all keys when it leaves the map', () => {
  const m = model();
  m.take(read({ '1 bash': [0, 2, 1, 0], '2 sshd': [1, 0, 0, 0] }, 1));
  m.selectedKey = '2';
  assert.deepEqual([...(m.shownCounts() ?? [])], [1, 0, 0, 0]);
  assert.equal(m.labelOf('2'), '2 sshd');
  m.take(read({ '1 bash': [0, 3, 1, 0] }, 2));
  assert.equal(m.selectedKey, ALL_KEYS);
  assert.deepEqual([...(m.shownCounts() ?? [])], [0, 3, 1, 0]);
});

test('the key picker keeps first-seen order as counts change, drops gone keys and follows renamed labels', () => {
  const m = model();
  m.take(read({ '2 sshd': [1, 0, 0, 0], '1 bash': [0, 2, 1, 0] }, 1));
  m.take(read({ '1 bash': [0, 9, 1, 0], '2 sshd': [1, 0, 0, 0], '3 cron': [0, 0, 1, 0] }, 2));
  assert.deepEqual(m.keyChoices(), [{ id: '2', label: '2 sshd' }, { id: '1', label: '1 bash' }, { id: '3', label: '3 cron' }]);
  m.take(read({ '1 make': [0, 9, 2, 0], '3 cron': [0, 0, 1, 0] }, 3));
  assert.deepEqual(m.keyChoices(), [{ id: '1', label: '1 make' }, { id: '3', label: '3 cron' }]);
  assert.equal(m.keyCount(), 2);
});

test('the heatmap has one column per update after the first, with the rows that ever held a count', () => {
  const m = model();
  m.take(read({ '1 a': [0, 0, 0, 0] }, 1));
  assert.deepEqual(m.heatmap(), { columns: [], lo: -1, hi: -1, max: 0 });
  m.take(read({ '1 a': [0, 2, 0, 0] }, 2));
  m.take(read({ '1 a': [0, 2, 0, 5] }, 3));
  const heatmap = m.heatmap();
  assert.deepEqual(heatmap.columns.map((c) => [...c]), [[0, 2, 0, 0], [0, 0, 0, 5]]);
  assert.deepEqual([heatmap.lo, heatmap.hi, heatmap.max], [1, 3, 5]);
});

test('exports: CSV rows per bucket, JSON with percentiles, text in the libbpf-tools layout, all for the shown counts', () => {
  const m = model();
  m.take(read({ '1 bash': [0, 2, 2, 0] }, 1));
  m.selectedKey = '1';
  const csv = m.exportSnapshot('csv', 'hists');
  assert.equal(csv?.suggestedName, 'hists.csv');
  assert.deepEqual(csv?.content.trim().split('\n'), ['key,slot,low,high,unit,count,share', '1 bash,0,0,1,us,0,0.000000', '1 bash,1,2,3,us,2,0.500000', '1 bash,2,4,7,us,2,0.500000', '1 bash,3,8,15,us,0,0.000000']);
  const json = JSON.parse(m.exportSnapshot('json', 'hists')?.content ?? '{}') as Record<string, unknown>;
  assert.deepEqual({ key: json.key, mode: json.mode, total: json.total, buckets: (json.buckets as unknown[]).length }, { key: '1 bash', mode: 'total', total: 4, buckets: 4 });
  assert.equal(typeof json.p50, 'number');
  const text = m.asText('Block I/O latency') ?? '';
  assert.match(text, /^Block I\/O latency for 1 bash \(since start\)\n\n/);
  assert.match(text, /usecs/);
  assert.equal(new HistogramViewModel(() => SLOTS).exportSnapshot('csv', 'hists'), undefined, 'nothing to export before a read');
});
