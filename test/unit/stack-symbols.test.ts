// Stack-trace values as frames: kallsyms parsed and searched (function+offset; hidden addresses give none), zero padding
// ends a stack, addresses take the names given (else hex); which process recorded a user stack. Pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelSymbols } from '../../agent/src/kernel-symbols';
import { stackFrames } from '../../engine/live-data/stack-symbols';
import { userStackOwners } from '../../engine/live-data/stack-owners';

const KALLSYMS = 'ffffffff81000000 T _stext\nffffffff81000100 t do_one\nffffffff81000200 D some_data\nffffffff81000300 T __schedule\n';

test('kernel addresses are named function+offset from the nearest text symbol below', () => {
  const kernel = KernelSymbols.parse(KALLSYMS);
  assert.equal(kernel?.name(0xffffffff81000342n), '__schedule+0x42');
  assert.equal(kernel?.name(0xffffffff81000101n), 'do_one+0x1');
  assert.equal(kernel?.name(0xffffffff80000000n), undefined, 'below the first symbol');
});

test('kallsyms read without privileges (all zero addresses) gives no symbols', () => {
  assert.equal(KernelSymbols.parse('0000000000000000 T _stext\n0000000000000000 t do_one\n'), undefined);
});

test('frames take the names given for their addresses up to the zero padding; the others stay hex', () => {
  const value = Buffer.alloc(8 * 4);
  value.writeBigUInt64LE(0xffffffff81000342n, 0);
  value.writeBigUInt64LE(0x55d0c0a01139n, 8);
  value.writeBigUInt64LE(0x7f0012345678n, 16);
  const names = new Map([['0xffffffff81000342', '__schedule+0x42'], ['0x55d0c0a01139', 'studio_marker_leaf+0x0 (stack-workload)']]);
  assert.deepEqual(stackFrames(value, names), ['__schedule+0x42', 'studio_marker_leaf+0x0 (stack-workload)', '0x7f0012345678']);
  assert.deepEqual(stackFrames(value, new Map()), ['0xffffffff81000342', '0x55d0c0a01139', '0x7f0012345678']);
});

test('the process of a user stack comes from a key or value with tgid (else pid) and a user stack id field', () => {
  const offcputime = [{ key: { pid: 12, tgid: 10, user_stack_id: 3, kern_stack_id: 4, name: 'a' }, value: 100 }];
  const profile = [{ key: { pid: 20, user_stack_id: 5, kern_stack_id: -1, name: 'b' }, value: 1 }];
  const other = [{ key: 1, value: { ustack: 6, pid: 30 } }, { key: { tgid: 40, user_stack_id: -14 }, value: 1 }, { key: 7, value: ['0x1'] }];
  assert.deepEqual([...userStackOwners([offcputime, profile, other])], [[3, 10], [5, 20], [6, 30]]);
});
