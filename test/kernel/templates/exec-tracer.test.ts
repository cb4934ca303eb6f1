// Kernel test of the exec-tracer template: filtered to children of this process, runs /bin/true a known number
// of times and one missing program, and reads one ring-buffer event per exec with the right names and results.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { cString, missingPrerequisite, TemplateSession, waitFor } from './template-session';

const EXECS = 12;
const MISSING = '/nonexistent/ebpf-studio-no-such-program';
const ENOENT = 2;

interface ExecEvent {
  pid: number;
  ppid: number;
  retval: number;
  comm: string;
  filename: string;
}

function decode(record: Buffer): ExecEvent {
  return {
    pid: record.readUInt32LE(0),
    ppid: record.readUInt32LE(4),
    retval: record.readInt32LE(12),
    comm: cString(record.subarray(16, 32)),
    filename: cString(record.subarray(32, 288)),
  };
}

describe('exec-tracer template', { skip: missingPrerequisite() }, () => {
  it('emits one event per exec with pid, ppid, comm, filename and return code', async () => {
    const session = await TemplateSession.start('exec-tracer', { ppid: String(process.pid) });
    try {
      await session.streamEvents('events');
      const pids: number[] = [];
      for (let i = 0; i < EXECS; i++) {
        const run = spawnSync('/bin/true');
        assert.equal(run.status, 0);
        pids.push(run.pid as number);
      }
      assert.equal(spawnSync(MISSING).error?.message.includes('ENOENT'), true);

      const events = await waitFor(`${EXECS + 1} exec events`, () => {
        const all = session.recordsOf('events').map(decode);
        return all.length >= EXECS + 1 ? all : undefined;
      });
      const succeeded = events.filter((e) => e.filename === '/bin/true');
      assert.equal(succeeded.length, EXECS);
      for (const event of succeeded) {
        assert.deepEqual({ ppid: event.ppid, retval: event.retval, comm: event.comm }, { ppid: process.pid, retval: 0, comm: 'true' });
      }
      assert.deepEqual(succeeded.map((e) => e.pid).sort(), [...pids].sort());
      const failed = events.filter((e) => e.filename === MISSING);
      assert.equal(failed.length, 1);
      assert.equal(failed[0].retval, -ENOENT);
      assert.equal(events.length, EXECS + 1, 'only children of this process are traced');
    } finally {
      await session.stop();
    }
  });
});
