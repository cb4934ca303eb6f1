// Kernel test of the file-open-tracer template: filtered to this process, opens a known file and a missing one a
// known number of times, and reads one event per open with file name and result, and the ENOENT count.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cString, missingPrerequisite, TemplateSession, waitFor } from './template-session';

const OPENS = 10;
const ENOENT = 2;

function decode(record: Buffer) {
  return { pid: record.readUInt32LE(0), flags: record.readInt32LE(4), ret: record.readInt32LE(8), comm: cString(record.subarray(12, 28)), filename: cString(record.subarray(28, 284)) };
}

describe('file-open-tracer template', { skip: missingPrerequisite() }, () => {
  it('reports each open with its file name and result, and counts failures per errno', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-opens-'));
    const present = join(dir, 'present.txt');
    const missing = join(dir, 'missing.txt');
    writeFileSync(present, 'x');
    const session = await TemplateSession.start('file-open-tracer', { pid: String(process.pid) });
    try {
      await session.streamEvents('events');
      for (let i = 0; i < OPENS; i++) {
        closeSync(openSync(present, 'r'));
        assert.throws(() => openSync(missing, 'r'), /ENOENT/);
      }
      const events = await waitFor(`${2 * OPENS} open events`, () => {
        const ours = session.recordsOf('events').map(decode).filter((e) => e.filename.startsWith(dir));
        return ours.length >= 2 * OPENS ? ours : undefined;
      });
      const opened = events.filter((e) => e.filename === present);
      const failed = events.filter((e) => e.filename === missing);
      assert.equal(opened.length, OPENS);
      assert.ok(opened.every((e) => e.ret >= 0 && e.pid === process.pid));
      assert.equal(failed.length, OPENS);
      assert.ok(failed.every((e) => e.ret === -ENOENT));
      const errors = await session.mapEntries('errors');
      const enoent = errors.find((e) => e.key.readUInt32LE(0) === ENOENT);
      assert.ok(enoent && Number(enoent.value.readBigUInt64LE(0)) >= OPENS);
    } finally {
      await session.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports only failed opens with failedOnly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-opens-'));
    const present = join(dir, 'present.txt');
    writeFileSync(present, 'x');
    const session = await TemplateSession.start('file-open-tracer', { pid: String(process.pid), failedOnly: 'true' });
    try {
      await session.streamEvents('events');
      closeSync(openSync(present, 'r'));
      assert.throws(() => openSync(join(dir, 'missing.txt'), 'r'), /ENOENT/);
      const events = await waitFor('the failed open', () => {
        const ours = session.recordsOf('events').map(decode).filter((e) => e.filename.startsWith(dir));
        return ours.length >= 1 ? ours : undefined;
      });
      assert.deepEqual(events.map((e) => e.filename), [join(dir, 'missing.txt')]);
    } finally {
      await session.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
