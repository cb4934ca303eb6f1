// The "▶ Attach" code lens finder: programs (plain functions and BPF_PROG-style macros) with their SEC line,
// while maps, the licence and declarations without a body are skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProbePrograms } from '../../client/src/targets/probe-programs';

test('finds each program with its SEC line, skipping maps and the licence', () => {
  const text = readFileSync(join(__dirname, '..', 'fixtures', 'targets', 'attach-errors.bpf.c'), 'utf8');
  const found = findProbePrograms(text);
  assert.deepEqual(
    found.map((p) => `${p.name}@${p.section}`),
    ['on_kprobe@kprobe/do_sys_openat2', 'on_fentry@fentry/do_sys_openat2', 'on_xdp@xdp', 'on_getppid@tracepoint/syscalls/sys_enter_getppid'],
  );
  const lines = text.split('\n');
  for (const p of found) assert.match(lines[p.line], /SEC\(/);
});

test('BPF_PROG-style wrappers name the program by their first argument; SEC on the same line works', () => {
  const text = [
    'struct { __uint(type, BPF_MAP_TYPE_HASH); } counts SEC(".maps");',
    'SEC("tp_btf/sched_switch")',
    'int BPF_PROG(on_switch, bool preempt, struct task_struct *prev)',
    '{ return 0; }',
    'SEC("kprobe/do_unlinkat") int BPF_KPROBE(on_unlink, int dfd) { return 0; }',
    'SEC("xdp") static __always_inline int',
    'count_packets(struct xdp_md *ctx) { return 2; }',
    'char LICENSE[] SEC("license") = "GPL";',
  ].join('\n');
  assert.deepEqual(findProbePrograms(text).map((p) => [p.name, p.line]), [['on_switch', 1], ['on_unlink', 4], ['count_packets', 5]]);
});
