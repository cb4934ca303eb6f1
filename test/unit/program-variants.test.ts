// Variant choice as libbpf tools' user space makes it (tp_btf over raw_tp, fentry over kprobe unless the kernel refuses
// it, SEC("?...") alternatives), and `run --map-size` parsing. Pure functions; the kernel side is in realworld-probes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planVariants } from '../../agent/src/program-variants';
import { parseRunArgs } from '../../cli/src/run-command';
import { UsageError } from '../../cli/src/command-line';

const runqlat = [
  { name: 'sched_wakeup', section: 'tp_btf/sched_wakeup', autoload: true },
  { name: 'sched_switch', section: 'tp_btf/sched_switch', autoload: true },
  { name: 'handle_sched_wakeup', section: 'raw_tp/sched_wakeup', autoload: true },
  { name: 'handle_sched_switch', section: 'raw_tp/sched_switch', autoload: true },
];

test('tp_btf is chosen over raw_tp for the same tracepoint; raw_tp is the fallback and says why it is off', () => {
  const plan = planVariants(runqlat, {});
  assert.deepEqual(plan.chosen, ['sched_wakeup', 'sched_switch']);
  assert.deepEqual(plan.fallbacks.get('sched_switch'), ['handle_sched_switch']);
  assert.match(plan.skipped.get('handle_sched_wakeup') ?? '', /^variant of sched_wakeup \(tp_btf\/sched_wakeup\) for the same event; tp_btf was chosen/);
});

test('fentry is preferred over kprobe, but not under lockdown; a kernel without kprobes keeps fentry', () => {
  const programs = [
    { name: 'fentry_unlink', section: 'fentry/do_unlinkat', autoload: true },
    { name: 'kprobe_unlink', section: 'kprobe/do_unlinkat', autoload: true },
    { name: 'fexit_unlink', section: 'fexit/do_unlinkat', autoload: true },
    { name: 'kretprobe_unlink', section: 'kretprobe/do_unlinkat', autoload: true },
  ];
  assert.deepEqual(planVariants(programs, {}).chosen, ['fentry_unlink', 'fexit_unlink']);
  const locked = planVariants(programs, { lockdown: 'integrity', kprobes: true });
  assert.deepEqual(locked.chosen, ['kprobe_unlink', 'kretprobe_unlink']);
  assert.match(locked.skipped.get('fentry_unlink') ?? '', /lockdown "integrity" refuses fentry/);
  assert.deepEqual(planVariants(programs, { kprobes: false }).chosen, ['fentry_unlink', 'fexit_unlink']);
});

test('two handlers of one tracepoint of the same kind both load; a lone SEC("?...") program stays off; a ?-variant can be chosen', () => {
  const plan = planVariants([
    { name: 'a', section: 'tracepoint/syscalls/sys_enter_openat', autoload: true },
    { name: 'b', section: 'tracepoint/syscalls/sys_enter_openat', autoload: true },
    { name: 'opt', section: '?tracepoint/syscalls/sys_enter_close', autoload: false },
    { name: 'btf', section: '?tp_btf/sched_switch', autoload: false },
    { name: 'raw', section: 'raw_tp/sched_switch', autoload: true },
  ], {});
  assert.deepEqual(plan.chosen, ['a', 'b', 'btf']);
  assert.ok(plan.skipped.has('raw'));
  assert.ok(!plan.skipped.has('opt'));
});

test('--program and --map-size are parsed; a bad size is a usage error', () => {
  const options = parseRunArgs(['p.bpf.c', '--program', 'x', '--program=y', '--map-size', 'stackmap=2048:1016', '--map-size', 'start=4096', '--map-size', 'heap=:64']);
  assert.deepEqual(options.programs, ['x', 'y']);
  assert.deepEqual(options.mapSizes, { stackmap: { maxEntries: 2048, valueSize: 1016 }, start: { maxEntries: 4096 }, heap: { valueSize: 64 } });
  for (const bad of ['stackmap', 'stackmap=0', 'stackmap=-1', '=5', 'stackmap=1:x', 'stackmap=']) {
    assert.throws(() => parseRunArgs(['p.bpf.c', '--map-size', bad]), UsageError, bad);
  }
});
