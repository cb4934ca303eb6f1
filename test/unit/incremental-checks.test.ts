// Incremental checking across edits: a checker kept across versions (the language server's) gives what a fresh
// full check of each version gives, with real rules; a body edit changes only its function's findings, and a
// #define or struct edit re-checks the functions that depend on it. Behaviour only, no timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeDocument, parseProbeFile } from '../../server/src/analysis/probe-document';
import { ProbeChecker, checkProbeFile } from '../../server/src/rules/rule-engine';
import { allRules } from '../../server/src/rules/index';
import type { Diagnostic } from 'vscode-languageserver-types';

const KERNEL = { major: 6, minor: 18, patch: 0 };
const URI = 'file:///incremental.bpf.c';
const PROBE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define KEY 0

struct event {
	__u32 pid;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("kprobe/do_nanosleep")
int count(void *ctx)
{
	__u32 key = KEY;
	__u64 *value = bpf_map_lookup_elem(&counts, &key);
	*value += 1;
	return 0;
}

SEC("kprobe/do_unlinkat")
int report(void *ctx)
{
	struct event e;
	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.ts = bpf_ktime_get_ns();
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("kprobe/do_sys_open")
int other(void *ctx)
{
	__u32 key = 1;
	__u64 *value = bpf_map_lookup_elem(&counts, &key);
	if (value)
		*value += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** Findings by line, rule and severity (1 error, 2 warning). */
const summary = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${d.range.start.line + 1}:${String(d.code)}:${d.severity}`);

/** Checks `versions` in turn with one checker (quick checks, as while typing), asserting each equals a fresh full check. */
async function checkInTurn(versions: string[]): Promise<string[][]> {
  const document = await ProbeDocument.open(URI);
  const checker = new ProbeChecker(allRules, (failure) => assert.fail(`rule ${failure.ruleId} failed: ${String(failure.error)}`), true);
  try {
    const results: string[][] = [];
    for (const text of versions) {
      const incremental = checker.checkQuickly(document.update(text, KERNEL).file).diagnostics;
      const fresh = checkProbeFile(await parseProbeFile(text, { uri: URI, targetKernel: KERNEL }), allRules);
      assert.deepEqual(incremental, fresh);
      results.push(summary(incremental));
    }
    return results;
  } finally {
    document.close();
  }
}

test('a body edit updates that function\'s findings and leaves the others', async () => {
  const unchecked = PROBE.replace('\tif (value)\n\t\t*value += 1;', '\t*value += 1;');
  const [before, after, undone] = await checkInTurn([PROBE, unchecked, PROBE]);
  assert.deepEqual(before, ['29:nullable-pointer-unchecked:2', '39:uninitialized-stack-memory:2']);
  // 'other' gains its finding; the two findings in the functions above it stay as they were
  assert.deepEqual(after, [...before, '48:nullable-pointer-unchecked:2']);
  assert.deepEqual(undone, before);
});

test('a #define edit re-checks the function that uses it', async () => {
  // KEY 9 is outside the array map's 4 entries: the lookup in 'count' may fail on every kernel
  const [before, after] = await checkInTurn([PROBE, PROBE.replace('#define KEY 0', '#define KEY 9')]);
  assert.deepEqual(before[0], '29:nullable-pointer-unchecked:2');
  assert.deepEqual(after, ['29:nullable-pointer-unchecked:1', before[1]]);
});

test('a struct edit re-checks the function that uses the struct', async () => {
  // with two u64 fields struct event has no padding left uninitialised before the output call in 'report'
  const [before, after] = await checkInTurn([PROBE, PROBE.replace('\t__u32 pid;', '\t__u64 pid;'), PROBE]);
  assert.ok(before.includes('39:uninitialized-stack-memory:2'));
  assert.deepEqual(after, ['29:nullable-pointer-unchecked:2']);
});
