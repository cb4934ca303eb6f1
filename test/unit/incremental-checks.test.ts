// Incremental checking across edits: a checker kept across versions (the language server's) gives what a fresh
// full check of each version gives, with real rules; a body edit changes only its function's findings, and a
// #define or struct edit re-checks the functions that use it and no other. Behaviour only, no timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ProbeDocument, parseProbeFile } from '../../server/src/analysis/probe-document';
import { ProbeChecker, checkProbeFile } from '../../server/src/rules/rule-engine';
import { allRules } from '../../server/src/rules/index';
import type { Rule } from '../../server/src/rules/rule';
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

/** The real rules, recording which functions their per-function checks ran on. */
function recordingRules(checked: string[]): Rule[] {
  return allRules.map((rule) => {
    const checkFunction = rule.checkFunction?.bind(rule);
    return checkFunction ? { ...rule, checkFunction: (file, fn) => (checked.push(fn.name), checkFunction(file, fn)) } : rule;
  });
}

/**
 * Checks `versions` in turn with one checker (quick checks, as while typing), asserting each equals a fresh full check;
 * `checked` gets, per version, the functions whose rules ran (the others' findings were reused).
 */
async function checkInTurn(versions: string[], checked: string[][] = []): Promise<string[][]> {
  const document = await ProbeDocument.open(URI);
  let running: string[] = [];
  const checker = new ProbeChecker(recordingRules({ push: (name: string) => running.push(name) } as unknown as string[]), (failure) => assert.fail(`rule ${failure.ruleId} failed: ${String(failure.error)}`), true);
  try {
    const results: string[][] = [];
    for (const text of versions) {
      running = [];
      const file = document.update(text, KERNEL).file;
      const quick = checker.checkQuickly(file);
      // slow whole-file rules carried over while typing are re-run once typing pauses, as the server does
      const incremental = quick.deferred.length > 0 ? checker.check(file) : quick.diagnostics;
      checked.push([...new Set(running)]);
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

test('a #define or struct edit re-runs the rules of the functions using it only; the others keep their results', async () => {
  const checked: string[][] = [];
  const withKey9 = PROBE.replace('#define KEY 0', '#define KEY 9');
  const withoutPadding = withKey9.replace('\t__u32 pid;', '\t__u64 pid;');
  const [before, keyChanged, structChanged] = await checkInTurn([PROBE, withKey9, withoutPadding], checked);
  assert.deepEqual(checked[0], ['count', 'report', 'other'], 'the first check runs every function');
  // KEY is used by 'count' alone: its finding becomes an error, 'report' and 'other' are not checked again
  assert.deepEqual(checked[1], ['count']);
  assert.deepEqual(keyChanged, ['29:nullable-pointer-unchecked:1', before[1]]);
  // struct event is used by 'report' alone: its padding finding goes, the others keep theirs unchecked
  assert.deepEqual(checked[2], ['report']);
  assert.deepEqual(structChanged, ['29:nullable-pointer-unchecked:1']);
});

test('a function calling another is checked again when the callee\'s header changes, not when its body does', async () => {
  const withHelper = PROBE.replace('SEC("kprobe/do_nanosleep")', 'static __always_inline int helper(int x)\n{\n\treturn x + 1;\n}\n\nSEC("kprobe/do_nanosleep")')
    .replace('\t__u32 key = 1;', '\t__u32 key = helper(0);');
  const bodyEdited = withHelper.replace('return x + 1;', 'return x + 2;');
  const headerEdited = bodyEdited.replace('static __always_inline int helper(int x)', 'static __noinline int helper(int x)');
  const checked: string[][] = [];
  await checkInTurn([withHelper, bodyEdited, headerEdited], checked);
  assert.deepEqual(checked[1], ['helper']);
  assert.deepEqual(checked[2], ['helper', 'other']);
});

test('every #define and struct field of the kernel-verified corpus edited in turn: incremental findings equal fresh ones', async () => {
  // the corpus probes concatenated (their names collide across files, as in a large file), each top-level line edited and undone
  const corpus = join(__dirname, '..', 'fixtures', 'corpus');
  const files = readdirSync(corpus).filter((name) => name.endsWith('.bpf.c')).sort().slice(0, 40);
  const text = files.map((name) => readFileSync(join(corpus, name), 'utf8')).join('\n');
  const lines = text.split('\n');
  const versions = [text];
  let inStruct = false;
  lines.forEach((line, index) => {
    if (/^struct\s+\w+\s*\{/.test(line)) inStruct = true;
    else if (/^\}/.test(line)) inStruct = false;
    let edited: string | undefined;
    if (/^#define\s+\w+\s+\d+/.test(line)) edited = line.replace(/(\d+)/, (digits) => String(Number(digits) * 64));
    else if (inStruct && /\b(__u32|u32|__u64|u64|int|char)\b/.test(line)) edited = line.replace(/\b(__u32|u32|__u64|u64|int|char)\b/, (type) => (type.endsWith('64') ? 'char' : '__u64'));
    if (edited === undefined || edited === line) return;
    versions.push([...lines.slice(0, index), edited, ...lines.slice(index + 1)].join('\n'), text);
  });
  assert.ok(versions.length > 40, `the corpus has #defines and struct fields to edit (${versions.length - 1} versions)`);
  const checked: string[][] = [];
  const results = await checkInTurn(versions, checked);
  assert.ok(results.some((result, index) => index > 0 && result.join() !== results[0].join()), 'some edits change the findings');
  assert.ok(checked.slice(1).every((names) => names.length < checked[0].length / 2), 'an edit re-checks under half the functions');
});

test('a line added in each function body of the corpus in turn: findings pointing at maps above move with it, equal to fresh ones', async () => {
  // functions whose findings point at a map's declaration above them keep their results when a body between them changes
  const corpus = join(__dirname, '..', 'fixtures', 'corpus');
  const files = readdirSync(corpus).filter((name) => name.endsWith('.bpf.c')).sort().slice(0, 40);
  const text = files.map((name) => readFileSync(join(corpus, name), 'utf8')).join('\n');
  const fresh = checkProbeFile(await parseProbeFile(text, { uri: URI, targetKernel: KERNEL }), allRules);
  const pointingAbove = fresh.filter((d) => d.relatedInformation?.some((related) => related.location.range.start.line < d.range.start.line - 10));
  assert.ok(pointingAbove.length > 0, 'some findings point at a declaration well above them');
  const lines = text.split('\n');
  const versions = [text];
  lines.forEach((line, index) => {
    if (line === '{' && index > 0 && /\)\s*$/.test(lines[index - 1])) versions.push([...lines.slice(0, index + 1), '\t/* added */', ...lines.slice(index + 1)].join('\n'), text);
  });
  assert.ok(versions.length > 40, `the corpus has function bodies to edit (${versions.length - 1} versions)`);
  const checked: string[][] = [];
  await checkInTurn(versions, checked);
  assert.ok(checked.slice(1).every((names) => names.length <= 1), `a body edit re-checks its own function only (${checked.slice(1).map((names) => names.length).join(',')})`);
});
