// Kernel facts: the committed generated JSON is exactly what scripts/gen-kernel-tables.mjs makes
// from data/ and bpf_helper_defs.h; SEC-name mapping follows libbpf; version comparison.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { kernelFacts } from '../../server/src/kernel/kernel-facts';
import { matchSection, closestSectionNames } from '../../server/src/kernel/sections';
import { parseKernelVersion, compareKernelVersions, kernelHas, runningKernelVersion, resolveTargetKernel } from '../../server/src/kernel/kernel-version';

const root = join(__dirname, '../..');

test('generated kernel tables are what the generator produces', { skip: !existsSync('/usr/include/bpf/bpf_helper_defs.h') && process.env.CI !== 'true' ? 'needs libbpf-dev (/usr/include/bpf/bpf_helper_defs.h)' : false }, () => {
  const run = spawnSync(process.execPath, [join(root, 'scripts/gen-kernel-tables.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});

test('helper facts: signature, docs, versions, GPL, program types', () => {
  const lookup = kernelFacts.helper('bpf_map_lookup_elem');
  assert.ok(lookup);
  assert.equal(lookup.id, 1);
  assert.equal(lookup.signature, 'void *bpf_map_lookup_elem(void *map, const void *key)');
  assert.match(lookup.returns, /NULL/);
  assert.equal(kernelFacts.helper('bpf_ringbuf_reserve')?.since, '5.8');
  assert.equal(kernelFacts.helper('bpf_loop')?.since, '5.17');
  assert.equal(kernelFacts.helper('bpf_probe_read_kernel')?.gplOnly, true);
  assert.equal(kernelFacts.helper('bpf_get_current_pid_tgid')?.gplOnly, false);
  const skbLoad = kernelFacts.helper('bpf_skb_load_bytes');
  assert.ok(skbLoad);
  assert.equal(kernelFacts.helperAllowedIn(skbLoad, 'sched_cls'), true);
  assert.equal(kernelFacts.helperAllowedIn(skbLoad, 'kprobe'), false);
  const pidTgid = kernelFacts.helper('bpf_get_current_pid_tgid');
  assert.ok(pidTgid);
  assert.equal(kernelFacts.helperAllowedIn(pidTgid, 'xdp', { major: 5, minor: 15, patch: 0 }), false);
  assert.equal(kernelFacts.helperAllowedIn(pidTgid, 'xdp', { major: 6, minor: 1, patch: 0 }), true);
  assert.equal(kernelFacts.helper('toString'), undefined);
  assert.equal(kernelFacts.programTypeSince('xdp'), '4.8');
  assert.equal(kernelFacts.mapTypeSince('BPF_MAP_TYPE_RINGBUF'), '5.8');
});

test('SEC names map to program types the way libbpf maps them', () => {
  const cases: [string, string | null, string?][] = [
    ['tracepoint/syscalls/sys_enter_openat', 'tracepoint', 'syscalls/sys_enter_openat'],
    ['tp/sched/sched_switch', 'tracepoint', 'sched/sched_switch'],
    ['raw_tp/sched_switch', 'raw_tracepoint'],
    ['raw_tracepoint/sched_switch', 'raw_tracepoint'],
    ['tp_btf/sched_switch', 'tracing'],
    ['fentry/do_unlinkat', 'tracing'],
    ['fexit/do_unlinkat', 'tracing'],
    ['kprobe/do_unlinkat', 'kprobe', 'do_unlinkat'],
    ['kretprobe/do_unlinkat', 'kprobe'],
    ['uprobe//bin/bash:readline', 'kprobe', '/bin/bash:readline'],
    ['uretprobe//bin/bash:readline', 'kprobe'],
    ['usdt/libc:setjmp', 'kprobe'],
    ['xdp', 'xdp'],
    ['tc', 'sched_cls'],
    ['classifier', 'sched_cls'],
    ['cgroup_skb/ingress', 'cgroup_skb'],
    ['cgroup_skb/egress', 'cgroup_skb'],
    ['cgroup/connect4', 'cgroup_sock_addr'],
    ['cgroup/sock_create', 'cgroup_sock'],
    ['socket', 'socket_filter'],
    ['lsm/file_open', 'lsm'],
    ['lsm.s/file_open', 'lsm'],
    ['perf_event', 'perf_event'],
    ['iter/task', 'tracing'],
    ['struct_ops/init', 'struct_ops'],
    ['sk_msg', 'sk_msg'],
    ['sk_skb/stream_verdict', 'sk_skb'],
    ['flow_dissector', 'flow_dissector'],
    ['?tp/syscalls/sys_enter_read', 'tracepoint'],
    ['kprobe', 'kprobe'],
    ['kprobeX/foo', null],
    ['xdp/foo', null],
    ['tracepoints/syscalls/sys_enter_openat', null],
    ['tcx', null],
  ];
  for (const [name, type, target] of cases) {
    const match = matchSection(name);
    assert.equal(match?.programType ?? null, type, name);
    if (target !== undefined) assert.equal(match?.target, target, name);
  }
  assert.equal(matchSection('?xdp')?.autoload, false);
});

test('closest section names keep the attach target', () => {
  assert.equal(closestSectionNames('tracepoints/syscalls/sys_enter_openat')[0], 'tracepoint/syscalls/sys_enter_openat');
  assert.equal(closestSectionNames('kprob/do_unlinkat')[0], 'kprobe/do_unlinkat');
  assert.ok(closestSectionNames('xdp_prog').includes('xdp'));
  assert.equal(closestSectionNames('licence', 1, true)[0], 'license');
});

test('kernel versions parse and compare', () => {
  assert.deepEqual(parseKernelVersion('v5.8'), { major: 5, minor: 8, patch: 0 });
  assert.deepEqual(parseKernelVersion('6.18.0-12-amd64'), { major: 6, minor: 18, patch: 0 });
  assert.equal(parseKernelVersion('latest'), null);
  assert.ok(compareKernelVersions({ major: 5, minor: 10, patch: 0 }, { major: 5, minor: 9, patch: 9 }) > 0);
  assert.equal(kernelHas({ major: 5, minor: 4, patch: 0 }, '5.8'), false);
  assert.equal(kernelHas({ major: 5, minor: 8, patch: 0 }, '5.8'), true);
  assert.deepEqual(resolveTargetKernel(''), runningKernelVersion());
  assert.deepEqual(resolveTargetKernel('5.15'), { major: 5, minor: 15, patch: 0 });
});
