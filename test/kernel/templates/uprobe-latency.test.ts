// Kernel test of the uprobe-latency template: a uprobe/uretprobe pair on getppid in the default binary (libc.so.6),
// filtered to this process, which calls it a known number of times (process.ppid); histogram and totals show that.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramTotal, missingPrerequisite, TemplateSession, waitFor } from './template-session';

const CALLS = 40;

describe('uprobe-latency template', { skip: missingPrerequisite() }, () => {
  it('times every call of a libc function made by this process', async () => {
    const session = await TemplateSession.start('uprobe-latency', { symbol: 'getppid', pid: String(process.pid), unit: 'ns' });
    try {
      for (let i = 0; i < CALLS; i++) assert.ok(process.ppid > 0);
      const [totals] = await waitFor('the call totals', async () => {
        const entries = await session.mapEntries('totals');
        return Number(entries[0]?.value.readBigUInt64LE(0) ?? 0) >= CALLS ? entries : undefined;
      });
      assert.equal(Number(totals.value.readBigUInt64LE(0)), CALLS);
      assert.ok(totals.value.readBigUInt64LE(8) > 0n, 'total time is counted');
      const [hist] = await session.mapEntries('hists');
      assert.equal(histogramTotal(hist.value), CALLS);
    } finally {
      await session.stop();
    }
  });
});
