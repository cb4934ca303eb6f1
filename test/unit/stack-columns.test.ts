// Stack-trace map columns: the stack id as a sortable number, the frames named from the names given (names that
// arrive later are used when the cell is read again), unnamed ones in hex. Pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStackTraceMap, stackTraceColumns } from '../../engine/live-data/stack-columns';

test('a stack id column and a frames column named from the names given, read when shown', () => {
  const layout = { keySize: 4, valueSize: 24, perCpu: false, possibleCpus: 2 };
  const names = new Map<string, string>();
  const [id, frames] = stackTraceColumns(layout, names);
  const key = new DataView(new Uint8Array([5, 1, 0, 0]).buffer);
  const value = Buffer.alloc(24);
  value.writeBigUInt64LE(0xffffffff81000342n, 0);
  value.writeBigUInt64LE(0x7f0012345678n, 8);
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  assert.equal(id.num(key, 0), 261);
  assert.equal(id.text(key, 0), '261');
  assert.equal(frames.text(dv, 0), '0xffffffff81000342 ← 0x7f0012345678');
  names.set('0xffffffff81000342', '__schedule+0x42');
  assert.equal(frames.text(dv, 0), '__schedule+0x42 ← 0x7f0012345678');
  assert.ok(Number.isNaN(frames.num(dv, 0)));
  assert.equal(isStackTraceMap({ type: 'stack_trace', keySize: 4 }), true);
  assert.equal(isStackTraceMap({ type: 'hash', keySize: 4 }), false);
});
