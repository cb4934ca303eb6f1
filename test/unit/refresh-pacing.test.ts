// Refresh pacing: a cheap read keeps the requested interval, a costly one slows the view to stay within 1% of one
// CPU (reads paced to 0.75%; whole seconds, 5 s steps beyond 10 s), smoothed over reads, and the note says so. Pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RefreshPacing } from '../../engine/live-data/refresh-pacing';

test('before any read and for cheap reads the requested interval stands', () => {
  const pacing = new RefreshPacing();
  assert.equal(pacing.intervalMs(1000), 1000);
  assert.equal(pacing.note(1000, 12), 'refreshing every 1 s: 12 entries');
  pacing.record(4);
  assert.equal(pacing.intervalMs(1000), 1000);
  assert.equal(pacing.intervalMs(250), 1000, '4 ms a read at 250 ms would be 1.6%: slowed, in whole seconds');
});

test('a read costing 48 ms of CPU slows a 1 s refresh to 7 s (reads paced to 0.75%, the rest for the reply), and the note says why', () => {
  const pacing = new RefreshPacing();
  pacing.record(48);
  assert.equal(pacing.intervalMs(1000), 7000, '48 ms / 0.75% = 6.4 s, rounded up');
  assert.equal(pacing.intervalMs(10_000), 10_000);
  assert.equal(pacing.note(1000, 100_000),
    'refreshing every 7 s: 100,000 entries (a read costs the agent 48 ms of CPU; slower than the 1 s asked to keep it under 1% of one CPU)');
  assert.equal(pacing.note(10_000, 100_000), 'refreshing every 10 s: 100,000 entries');
});

test('costs beyond 10 s of interval round up to 5 s steps', () => {
  const pacing = new RefreshPacing();
  pacing.record(123);
  assert.equal(pacing.intervalMs(1000), 20_000, '123 ms / 0.75% = 16.4 s');
});

test('the cost is smoothed: a costly first read is forgotten over the cheaper reads after it', () => {
  const pacing = new RefreshPacing();
  pacing.record(200);
  assert.equal(pacing.intervalMs(1000), 30_000, '200 ms / 0.75% = 26.7 s');
  pacing.record(6);
  assert.equal(pacing.intervalMs(1000), 15_000, '(200 + 6) / 2 = 103 ms: 13.7 s, rounded up to 15 s');
  for (let i = 0; i < 10; i++) pacing.record(6);
  assert.equal(pacing.intervalMs(1000), 1000);
});
