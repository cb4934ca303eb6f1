// ProbeFile and ProbeDocument: BPF macros masked without moving anything, the facts rules read
// (functions, sections, wrappers, helper calls, maps, licence), and incremental re-parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskBpfMacros } from '../../server/src/analysis/bpf-macro-mask';
import { parseProbeFile, ProbeDocument, diffSpan } from '../../server/src/analysis/probe-document';

const KERNEL = { major: 6, minor: 1, patch: 0 };
const PROBE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, u32);
	__type(value, struct event);
	__uint(max_entries, 10240);
} starts SEC(".maps");

static __always_inline u64 delta(u64 start) /* ü */
{
	return bpf_ktime_get_ns() - start;
}

static __noinline int record(u32 pid)
{
	u64 *ts = bpf_map_lookup_elem(&starts, &pid);
	bpf_printk("pid %d", pid);
	return ts ? (int)delta(*ts) : 0;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(do_unlinkat, int dfd, struct filename *name)
{
	bpf_for(i, 0, 3) { record(i); }
	return 0;
}

SEC("xdp") int BPF_PROG(pass) { return XDP_PASS; }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
`;

test('masking keeps length, line breaks and everything outside macros', () => {
  const { masked, macros } = maskBpfMacros(PROBE);
  assert.equal(masked.length, PROBE.length);
  assert.deepEqual([...masked.matchAll(/\n/g)].map((m) => m.index), [...PROBE.matchAll(/\n/g)].map((m) => m.index));
  assert.ok(!/SEC\(|__uint|__type|BPF_KPROBE|__always_inline|bpf_for/.test(masked));
  assert.ok(masked.includes('#include <bpf/bpf_helpers.h>'));
  assert.deepEqual(macros.filter((m) => m.kind === 'section').map((m) => (m.kind === 'section' ? m.value : '')), ['.maps', 'kprobe/do_unlinkat', 'xdp', 'license']);
  const comment = maskBpfMacros('// SEC("x") in a comment\n"SEC(\\"y\\")";\n#define SEC(n) __attribute__((section(n)))\n');
  assert.deepEqual(comment.macros, []);
});

test('ProbeFile describes functions, sections, helper calls, maps and the licence', async () => {
  const file = await parseProbeFile(PROBE, { targetKernel: KERNEL });
  assert.equal(file.root.hasError, false);
  const names = file.functions.map((fn) => fn.name);
  assert.deepEqual(names, ['delta', 'record', 'do_unlinkat', 'pass']);
  const [delta, record, unlink, pass] = file.functions;
  assert.equal(delta.isAlwaysInline, true);
  assert.equal(delta.isStatic, true);
  assert.equal(delta.isProgram, false);
  assert.equal(record.isNoinline, true);
  assert.deepEqual(record.programTypes, ['kprobe']);
  assert.deepEqual(delta.programTypes, ['kprobe']);
  assert.deepEqual(record.helperCalls.map((c) => [c.name, c.helper.name, c.viaMacro ?? null]), [
    ['bpf_map_lookup_elem', 'bpf_map_lookup_elem', null],
    ['bpf_printk', 'bpf_trace_printk', 'bpf_printk'],
  ]);
  assert.equal(record.helperCalls[0].args.length, 2);
  assert.equal(unlink.section, 'kprobe/do_unlinkat');
  assert.equal(unlink.programType, 'kprobe');
  assert.equal(unlink.wrapper, 'BPF_KPROBE');
  assert.deepEqual(unlink.params.map((p) => `${p.type}|${p.name}`), ['int|dfd', 'struct filename *|name']);
  assert.deepEqual(unlink.nameRange, { start: { line: 24, character: 15 }, end: { line: 24, character: 26 } });
  assert.deepEqual(unlink.sectionRange, { start: { line: 23, character: 5 }, end: { line: 23, character: 23 } });
  assert.equal(pass.programType, 'xdp');
  assert.equal(pass.params.length, 0);
  assert.deepEqual(file.maps.map((m) => [m.name, m.type, m.keyType, m.valueType, m.maxEntries]), [['starts', 'BPF_MAP_TYPE_HASH', 'u32', 'struct event', '10240']]);
  assert.equal(file.license?.value, 'Dual BSD/GPL');
  assert.equal(file.licenseIsGplCompatible, true);
  assert.equal(file.textOf(unlink.node).split('\n')[0], 'int BPF_KPROBE(do_unlinkat, int dfd, struct filename *name)');
});

test('ProbeDocument re-parses incrementally and reports the touched function', async () => {
  const document = await ProbeDocument.open('file:///t.bpf.c');
  try {
    const first = document.update(PROBE, KERNEL);
    assert.equal(first.changed, null);
    const edited = PROBE.replace('return bpf_ktime_get_ns() - start;', 'return bpf_ktime_get_ns() - start - 1;');
    const second = document.update(edited, KERNEL);
    assert.ok(second.changed);
    assert.deepEqual(second.file.functionsTouchedByEdit().map((fn) => fn.name), ['delta']);
    const fresh = await parseProbeFile(edited, { targetKernel: KERNEL });
    assert.equal(second.file.root.toString(), fresh.root.toString());
    // typing a SEC(...) changes masking outside the typed span; the tree must still match a fresh parse
    const third = document.update(edited.replace('SEC("xdp") int', 'SEC("xdp")\nint'), KERNEL);
    const freshThird = await parseProbeFile(edited.replace('SEC("xdp") int', 'SEC("xdp")\nint'), { targetKernel: KERNEL });
    assert.equal(third.file.root.toString(), freshThird.root.toString());
  } finally {
    document.close();
  }
});

test('diffSpan finds the smallest differing span', () => {
  assert.deepEqual(diffSpan('abcdef', 'abXYef'), { start: 2, oldEnd: 4, newEnd: 4 });
  assert.deepEqual(diffSpan('aaa', 'aaaa'), { start: 3, oldEnd: 3, newEnd: 4 });
  assert.equal(diffSpan('same', 'same'), null);
});

test('type arguments of CO-RE macros parse without errors', async () => {
  const source = `int f(void *ctx)
{
	struct foo *p = container_of(node, struct foo, node);
	int v = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
	if (bpf_core_type_exists(struct trace_event_raw_block_rq_completion))
		return v;
	return sizeof(struct foo);
}
`;
  const file = await parseProbeFile(source, { targetKernel: KERNEL });
  assert.equal(file.root.hasError, false, file.root.toString());
  assert.equal(file.maskedText.length, source.length);
  assert.ok(file.maskedText.includes('sizeof(struct foo)'));
  const call = file.functions[0].calls.find((c) => c.name === 'container_of');
  assert.equal(call?.args.length, 3);
});

test('legacy map definitions, __section(), BPF_ANNOTATE_KV_PAIR and __attribute__ inlining', async () => {
  const source = `#include <linux/bpf.h>
struct bpf_map_def SEC("maps") legacy = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.max_entries = 1,
};
BPF_ANNOTATE_KV_PAIR(legacy, __u32, __u64);
__section("tc")
int from_container(struct __sk_buff *ctx)
{
	return 0;
}
__attribute__((__always_inline__)) static int helper(int x) { return x; }
char __license[] __section("license") = "Dual BSD/GPL";
`;
  const file = await parseProbeFile(source, { targetKernel: KERNEL });
  assert.equal(file.root.hasError, false, file.root.toString());
  assert.deepEqual(file.maps.map((m) => [m.name, m.type, m.legacy, m.maxEntries]), [['legacy', 'BPF_MAP_TYPE_ARRAY', true, '1']]);
  assert.deepEqual(file.functions.map((fn) => [fn.name, fn.programType, fn.isInline]), [['from_container', 'sched_cls', false], ['helper', null, true]]);
  assert.equal(file.license?.value, 'Dual BSD/GPL');
});

test('a comment after SEC("…") on its line leaves the section with the function below', async () => {
  const source = `#include <linux/bpf.h>
SEC("xdp") /* ingress */
int pass(struct xdp_md *ctx)
{
	return 2;
}
char LICENSE[] SEC("license") = "GPL"; // for the GPL-only helpers
`;
  const file = await parseProbeFile(source, { targetKernel: KERNEL });
  assert.deepEqual(file.functions.map((fn) => [fn.name, fn.section, fn.programType]), [['pass', 'xdp', 'xdp']]);
  assert.equal(file.license?.value, 'GPL');
});

test('the per-context memo survives edits inside function bodies and is recomputed for a change outside them', async () => {
  const document = await ProbeDocument.open('file:///memo.bpf.c');
  try {
    let computed = 0;
    const count = () => ++computed;
    document.update(PROBE, KERNEL).file.memoizeForContext('ctx', count);
    assert.equal(computed, 1);
    const edited = document.update(PROBE.replace('return 0;\n}\n\nSEC("xdp")', 'return 1;\n}\n\nSEC("xdp")'), KERNEL).file;
    edited.memoizeForContext('ctx', count);
    assert.equal(computed, 1, 'an edit inside do_unlinkat keeps the context');
    const retyped = document.update(PROBE.replace('#include <bpf/bpf_tracing.h>', '#include <bpf/bpf_tracing.h>\n#define X 1'), KERNEL).file;
    retyped.memoizeForContext('ctx', count);
    assert.equal(computed, 2, 'a change outside function bodies recomputes');
  } finally {
    document.close();
  }
});

test('pathological macro soup is masked without hanging (hang guard: 30 s)', { timeout: 30_000 }, () => {
  const soup = 'SEC('.repeat(50000) + '__uint('.repeat(50000);
  const { masked } = maskBpfMacros(soup);
  assert.equal(masked.length, soup.length);
});
