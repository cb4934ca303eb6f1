// The editor features as plain functions over a ProbeFile (no connection): completion contexts,
// hover, signature help on half-typed calls, quick fixes from diagnostic data, target kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MarkupContent } from 'vscode-languageserver-types';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { completionsAt } from '../../server/src/features/completion';
import { hoverAt } from '../../server/src/features/hover';
import { signatureHelpAt, enclosingCall } from '../../server/src/features/signature-help';
import { quickFixes } from '../../server/src/features/code-actions';
import { ProbeWorkspace } from '../../server/src/features/probe-workspace';

const SOURCE = `#include "vmlinux.h"
struct {
	__uint(type, BPF_MAP_TYPE_);
	__uint(map_flags, );
} counts SEC(".maps");

SEC("tc")
int classify(struct __sk_buff *skb)
{
	bpf_map_update_elem(&counts, &key, 
	return skb->len;
}

static int unreached(void)
{
	return 0;
}
`;

test('completion depends on where the cursor is', async () => {
  const file = await parseProbeFile(SOURCE, { targetKernel: { major: 5, minor: 4, patch: 0 } });
  const mapTypes = completionsAt(file, { line: 2, character: 27 });
  const ringbuf = mapTypes.find((item) => item.label === 'BPF_MAP_TYPE_RINGBUF');
  assert.match(ringbuf?.detail ?? '', /since 5\.8 — newer than the target kernel 5\.4/);
  assert.ok(completionsAt(file, { line: 3, character: 19 }).some((item) => item.label === 'BPF_F_NO_PREALLOC'));
  const inTc = completionsAt(file, { line: 10, character: 1 }).map((item) => item.label);
  assert.ok(inTc.includes('bpf_skb_load_bytes'));
  assert.ok(!inTc.includes('bpf_xdp_adjust_head'));
  const inUnreached = completionsAt(file, { line: 15, character: 1 }).map((item) => item.label);
  assert.ok(inUnreached.includes('bpf_xdp_adjust_head'), 'a function no program calls is offered every helper');
  assert.ok(completionsAt(file, { line: 6, character: 6 }).some((item) => item.label === 'tracepoint/'));
  assert.ok(completionsAt(file, { line: 2, character: 1 }).some((item) => item.label === '__uint(max_entries, …)'));
  assert.deepEqual(completionsAt(file, { line: 10, character: 14 }), [], 'after skb-> come members (clangd\'s), never helpers');
  assert.deepEqual(completionsAt(file, { line: 10, character: 15 }), []);
});

test('signature help works on a half-typed call', async () => {
  const file = await parseProbeFile(SOURCE, { targetKernel: { major: 6, minor: 1, patch: 0 } });
  const help = signatureHelpAt(file, { line: 9, character: 36 });
  assert.equal(help?.signatures[0].label, 'long bpf_map_update_elem(void *map, const void *key, const void *value, __u64 flags)');
  assert.equal(help?.activeParameter, 2);
  assert.deepEqual(enclosingCall('f(a, g(b, c), ', 14), { name: 'f', argument: 2 });
  assert.equal(enclosingCall('x = 1; y', 8), null);
});

test('hover explains sections and helpers', async () => {
  const complete = SOURCE.replace('&key, \n', '&key, &key, 0);\n').replace('BPF_MAP_TYPE_)', 'BPF_MAP_TYPE_HASH)').replace('map_flags, )', 'map_flags, 0)');
  const file = await parseProbeFile(complete, { targetKernel: { major: 6, minor: 1, patch: 0 } });
  assert.equal(file.root.hasError, false);
  const section = hoverAt(file, { line: 6, character: 5 });
  assert.match((section?.contents as MarkupContent).value, /\*\*sched_cls\*\* program \(BPF_PROG_TYPE_SCHED_CLS\)/);
  const helper = hoverAt(file, { line: 9, character: 3 });
  assert.match((helper?.contents as MarkupContent).value, /available to sched_cls programs/);
  const map = hoverAt(file, { line: 9, character: 24 });
  assert.equal((map?.contents as MarkupContent).value, 'map **counts**: `BPF_MAP_TYPE_HASH` (since 3.19)');
  const program = hoverAt(file, { line: 7, character: 6 });
  assert.equal((program?.contents as MarkupContent).value, '`classify`: a **sched_cls** program, SEC("tc")');
});

test('quick fixes come from the diagnostic data, and only from ebpf-studio diagnostics', () => {
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
  const fix = { title: 'Add the licence', edits: [{ range, newText: 'x' }] };
  const actions = quickFixes('file:///a.bpf.c', [
    { range, message: 'm', source: 'ebpf-studio', data: { ruleId: 'license-missing', fix } },
    { range, message: 'm', source: 'clang', data: { ruleId: 'license-missing', fix } },
    { range, message: 'm', source: 'ebpf-studio', data: { ruleId: 'x' } },
    { range, message: 'm', source: 'ebpf-studio', data: 'garbage' },
  ]);
  assert.equal(actions.length, 1);
  assert.deepEqual(actions[0].edit, { changes: { 'file:///a.bpf.c': fix.edits } });
});

test('the workspace applies the target kernel setting and rejects nonsense', async () => {
  const workspace = new ProbeWorkspace();
  assert.equal(workspace.setTargetKernel('5.10'), true);
  assert.deepEqual(workspace.targetKernelInfo().version, '5.10');
  assert.equal(workspace.targetKernelInfo().source, 'setting');
  assert.equal(workspace.setTargetKernel('newest'), false);
  assert.equal(workspace.setTargetKernel(''), true);
  assert.equal(workspace.targetKernelInfo().source, 'running');
  await workspace.update('file:///x.bpf.c', SOURCE);
  assert.ok(Array.isArray(workspace.diagnostics('file:///x.bpf.c')));
  workspace.close('file:///x.bpf.c');
  assert.deepEqual(workspace.uris(), []);
});

test('the same target kernel set again (the configuration pull after initialize) keeps the open files parsed; another re-parses them', async () => {
  const workspace = new ProbeWorkspace();
  workspace.setTargetKernel('');
  const parsed = await workspace.update('file:///same-target.bpf.c', SOURCE);
  workspace.setTargetKernel('');
  assert.equal(workspace.file('file:///same-target.bpf.c'), parsed);
  workspace.setTargetKernel('5.10');
  const reparsed = workspace.file('file:///same-target.bpf.c');
  assert.notEqual(reparsed, parsed);
  assert.equal(reparsed?.targetKernel.minor, 10);
  workspace.close('file:///same-target.bpf.c');
});
