// A probe's programs from the one parse (server/src/analysis/probe-programs, what ebpfStudio/programs answers):
// plain functions and BPF_PROG-style macros with their SEC line; maps, the licence and declarations are skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { probePrograms, readProbePrograms } from '../../server/src/analysis/probe-programs';
import { runningKernelVersion } from '../../server/src/kernel/kernel-version';

const fixtures = join(__dirname, '..', 'fixtures');

async function programsOf(text: string) {
  return probePrograms(await parseProbeFile(text, { targetKernel: runningKernelVersion() }));
}

test('finds each program with its SEC line, skipping maps and the licence', async () => {
  const path = join(fixtures, 'targets', 'attach-errors.bpf.c');
  const found = await readProbePrograms(path);
  assert.deepEqual(
    found.map((p) => `${p.name}@${p.section}`),
    ['on_kprobe@kprobe/do_sys_openat2', 'on_fentry@fentry/do_sys_openat2', 'on_xdp@xdp', 'on_getppid@tracepoint/syscalls/sys_enter_getppid'],
  );
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const p of found) assert.match(lines[p.line], /SEC\(/);
});

test('two programs in the same section each get their own SEC line', async () => {
  const path = join(fixtures, 'programs', 'two-xdp.bpf.c');
  const lines = readFileSync(path, 'utf8').split('\n');
  const found = await readProbePrograms(path);
  assert.deepEqual(found.map((p) => [p.name, p.section]), [['xdp_pass_all', 'xdp'], ['xdp_drop_marked', 'xdp']]);
  for (const p of found) assert.match(lines[p.line + 1], new RegExp(`\\b${p.name}\\(`), `${p.name}'s SEC line is the one above it`);
});

test('BPF_PROG-style wrappers name the program by their first argument; SEC on the same line and SEC("?…") work', async () => {
  const text = [
    'struct { __uint(type, BPF_MAP_TYPE_HASH); } counts SEC(".maps");',
    'SEC("tp_btf/sched_switch")',
    'int BPF_PROG(on_switch, bool preempt, struct task_struct *prev)',
    '{ return 0; }',
    'SEC("kprobe/do_unlinkat") int BPF_KPROBE(on_unlink, int dfd) { return 0; }',
    'SEC("xdp") static __always_inline int',
    'count_packets(struct xdp_md *ctx) { return 2; }',
    'SEC("?raw_tp/sys_enter")',
    'int optional_enter(void *ctx) { return 0; }',
    'int helper(void) { return 1; }',
    'char LICENSE[] SEC("license") = "GPL";',
  ].join('\n');
  assert.deepEqual(
    (await programsOf(text)).map((p) => [p.name, p.section, p.line]),
    [['on_switch', 'tp_btf/sched_switch', 1], ['on_unlink', 'kprobe/do_unlinkat', 4], ['count_packets', 'xdp', 5], ['optional_enter', '?raw_tp/sys_enter', 7]],
  );
});
