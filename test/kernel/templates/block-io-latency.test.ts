// Kernel test of the block-io-latency template: makes a loop device over a temporary file, writes to it with
// O_DIRECT (dd oflag=direct), filters the probe to that device, and finds every write in the histogram.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { histogramTotal, missingPrerequisite, TemplateSession, waitFor } from './template-session';

const WRITES = 32;

function deviceOf(path: string): string {
  const rdev = statSync(path).rdev;
  const major = (rdev >> 8) & 0xfff;
  const minor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
  return `${major}:${minor}`;
}

function loopDeviceAttached(device: string): boolean {
  return execFileSync('losetup', ['--list', '--noheadings', '--output', 'NAME'], { encoding: 'utf8' }).split('\n').some((l) => l.trim() === device);
}

describe('block-io-latency template', { skip: missingPrerequisite() }, () => {
  it('records each direct write to a loop device, filtered to that device', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-biolat-'));
    const backing = join(dir, 'disk.img');
    writeFileSync(backing, Buffer.alloc(4 * 1024 * 1024));
    const loop = execFileSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' }).trim();
    let session: TemplateSession | undefined;
    try {
      session = await TemplateSession.start('block-io-latency', { device: deviceOf(loop), perDisk: 'true' });
      execFileSync('dd', ['if=/dev/zero', `of=${loop}`, 'bs=4096', `count=${WRITES}`, 'oflag=direct'], { stdio: 'ignore' });
      const active = session;
      const entries = await waitFor(`${WRITES} completed requests`, async () => {
        const all = await active.mapEntries('hists');
        return all.length > 0 && histogramTotal(all[0].value) >= WRITES ? all : undefined;
      });
      assert.equal(entries.length, 1, 'only the loop device is traced');
      const [major, minor] = deviceOf(loop).split(':').map(Number);
      assert.equal(entries[0].key.readUInt32LE(0), major * 2 ** 20 + minor);
      assert.equal(histogramTotal(entries[0].value), WRITES);
    } finally {
      await session?.stop();
      execFileSync('losetup', ['--detach', loop]);
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(loopDeviceAttached(loop), false);
  });
});
