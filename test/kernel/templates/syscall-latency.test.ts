// Kernel test of the syscall-latency template (and a probe instantiated from it): times getppid() for this process
// only, makes a known number of calls (process.ppid), and finds exactly that many in the histogram.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { instantiateTemplate } from '../../../engine/templates/instantiate-template';
import { bundledTemplatesDir, loadTemplate } from '../../../engine/templates/template-catalog';
import { histogramTotal, missingPrerequisite, TemplateSession, waitFor, cString } from './template-session';

const CALLS = 64;

function callGetppid(times: number): void {
  for (let i = 0; i < times; i++) assert.ok(process.ppid > 0);
}

describe('syscall-latency template', { skip: missingPrerequisite() }, () => {
  it('counts every getppid() of this process in one histogram', async () => {
    const session = await TemplateSession.start('syscall-latency', { syscall: 'getppid', pid: String(process.pid), unit: 'ns' });
    try {
      callGetppid(CALLS);
      const [entry] = await waitFor('the histogram entry', async () => {
        const entries = await session.mapEntries('hists');
        return entries.length === 1 && histogramTotal(entries[0].value) >= CALLS ? entries : undefined;
      });
      assert.equal(entry.key.readUInt32LE(0), 0, 'one histogram for all (key tgid 0)');
      assert.equal(histogramTotal(entry.value), CALLS);
    } finally {
      await session.stop();
    }
  });

  it('keeps one histogram per process, named by its command, with perProcess', async () => {
    const session = await TemplateSession.start('syscall-latency', { syscall: 'getppid', pid: String(process.pid), perProcess: 'true' });
    try {
      callGetppid(CALLS);
      const entry = await waitFor('this process’s histogram', async () =>
        (await session.mapEntries('hists')).find((e) => e.key.readUInt32LE(0) === process.pid && histogramTotal(e.value) >= CALLS),
      );
      assert.equal(histogramTotal(entry.value), CALLS);
      assert.equal(cString(entry.value.subarray(27 * 4, 27 * 4 + 16)), 'node');
    } finally {
      await session.stop();
    }
  });

  it('runs a probe instantiated from it with the values written into its source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-instantiated-'));
    try {
      const probe = instantiateTemplate(loadTemplate(join(bundledTemplatesDir(), 'syscall-latency')), {
        targetDir: join(dir, 'getppid-latency'),
        values: { syscall: 'getppid', pid: String(process.pid) },
      });
      const session = await TemplateSession.startFolder(probe.dir, {}, { sourceGlobalsOnly: true });
      try {
        callGetppid(CALLS);
        const [entry] = await waitFor('the histogram entry', async () => {
          const entries = await session.mapEntries('hists');
          return entries.length === 1 && histogramTotal(entries[0].value) >= CALLS ? entries : undefined;
        });
        assert.equal(histogramTotal(entry.value), CALLS, 'only this process’s getppid() calls, as the source says');
      } finally {
        await session.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
