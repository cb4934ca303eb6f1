// Kernel test of the runqueue-latency template: this process sleeps and wakes many times (timers), each wakeup
// puts a thread on the run queue, and its per-process histogram fills with at least that many waits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { histogramTotal, missingPrerequisite, TemplateSession, waitFor } from './template-session';

const WAKEUPS = 30;

describe('runqueue-latency template', { skip: missingPrerequisite() }, () => {
  it('records run-queue waits of this process in its own histogram', async () => {
    const session = await TemplateSession.start('runqueue-latency', { pid: String(process.pid), perProcess: 'true', unit: 'ns' });
    try {
      // Each timer lets the main thread block and be woken: a sched_wakeup, then a sched_switch to it.
      for (let i = 0; i < WAKEUPS; i++) await sleep(2);
      const entries = await waitFor('this process’s run-queue histogram', async () => {
        const all = await session.mapEntries('hists');
        return all.some((e) => e.key.readUInt32LE(0) === process.pid && histogramTotal(e.value) >= WAKEUPS) ? all : undefined;
      });
      assert.deepEqual(
        entries.map((e) => e.key.readUInt32LE(0)),
        [process.pid],
        'only this process is traced',
      );
    } finally {
      await session.stop();
    }
  });
});
