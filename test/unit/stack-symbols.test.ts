// Stack-trace values as frames: kallsyms text parsed and searched (function+offset), zero padding ends a stack,
// user addresses stay hex, a kallsyms with hidden addresses gives no symbols. Pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelSymbols, stackFrames } from '../../engine/live-data/stack-symbols';

const KALLSYMS = 'ffffffff81000000 T _stext\nffffffff81000100 t do_one\nffffffff81000200 D some_data\nffffffff81000300 T __schedule\n';

test('kernel frames are named function+offset from the nearest text symbol below; user frames stay hex', () => {
  const kernel = KernelSymbols.parse(KALLSYMS);
  const value = Buffer.alloc(8 * 5);
  value.writeBigUInt64LE(0xffffffff81000342n, 0);
  value.writeBigUInt64LE(0xffffffff81000101n, 8);
  value.writeBigUInt64LE(0x7f0012345678n, 16);
  assert.deepEqual(stackFrames(value, kernel), ['__schedule+0x42', 'do_one+0x1', '0x7f0012345678']);
  assert.deepEqual(stackFrames(value, undefined), ['0xffffffff81000342', '0xffffffff81000101', '0x7f0012345678']);
});

test('kallsyms read without privileges (all zero addresses) gives no symbols', () => {
  assert.equal(KernelSymbols.parse('0000000000000000 T _stext\n0000000000000000 t do_one\n'), undefined);
});
