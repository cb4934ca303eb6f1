// The built language server over real LSP (stdio): diagnostics on open and change (with rule ids,
// docs links, verifier quotes), target-kernel setting, completion, hover, signature help, quick fixes, programs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LanguageServerProcess } from './language-server-process';
import { ProgramsRequest, type ProbeProgram } from '../../protocol/lsp-requests';
import type { CodeAction, CompletionItem, CompletionList, Hover, MarkupContent, SignatureHelp } from 'vscode-languageserver-protocol';

const PROBE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("kprobe/tcp_sendmsg")
int on_send(struct pt_regs *ctx)
{
	char buf[4] = {};
	bpf_skb_load_bytes(ctx, 0, buf, sizeof(buf));
	bpf_printk("send");
	return 0;
}

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	
	return XDP_PASS;
}
`;

let server: LanguageServerProcess;
let uri: string;

before(async () => {
  server = new LanguageServerProcess();
  const result = (await server.initialize({ settings: { targetKernel: '6.1' } })) as { capabilities: Record<string, unknown> };
  assert.ok(result.capabilities.completionProvider);
  assert.ok(result.capabilities.hoverProvider);
  assert.ok(result.capabilities.signatureHelpProvider);
  assert.ok(result.capabilities.codeActionProvider);
  server.configuration = { targetKernel: '6.1' };
  uri = await server.open('/tmp/ebpf-studio-lsp-test/probe.bpf.c', PROBE);
});

after(async () => {
  await server.shutdown();
});

const messageOf = (m: string | MarkupContent) => (typeof m === 'string' ? m : m.value);

test('diagnostics on open: rule id, docs link, verifier quote, severity', async () => {
  // a first check may publish in slices (one function's findings first): wait for the licence findings of both programs
  const diagnostics = await server.waitForDiagnostics(uri, (p) => p.diagnostics.filter((d) => d.code === 'license-missing').length === 2);
  const byCode = new Map(diagnostics.map((d) => [d.code, d]));
  const notAllowed = byCode.get('helper-not-allowed');
  assert.ok(notAllowed, JSON.stringify(diagnostics.map((d) => d.code)));
  assert.equal(notAllowed.range.start.line, 12);
  assert.equal(notAllowed.severity, 1);
  assert.equal(notAllowed.source, 'ebpf-studio');
  assert.match(messageOf(notAllowed.message), /bpf_skb_load_bytes is not available to kprobe programs \[eBPF Studio's helper tables, measured on kernel [^\]]+\] — the verifier says: "program of this type cannot use helper bpf_skb_load_bytes#26"/);
  const href = notAllowed.codeDescription?.href;
  assert.ok(href && existsSync(fileURLToPath(href)), `docs link ${href}`);
  const licence = diagnostics.filter((d) => d.code === 'license-missing');
  assert.deepEqual(licence.map((d) => d.range.start.line).sort(), [13, 8].sort());
});

test('quick fix from a diagnostic adds the licence', async () => {
  const diagnostics = await server.waitForDiagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'license-missing'));
  const licence = diagnostics.filter((d) => d.code === 'license-missing');
  const actions = (await server.connection.sendRequest('textDocument/codeAction', {
    textDocument: { uri },
    range: licence[0].range,
    context: { diagnostics: licence },
  })) as CodeAction[];
  assert.ok(actions.length >= 1);
  const edit = actions[0].edit?.changes?.[uri]?.[0];
  assert.ok(edit);
  assert.equal(edit.newText, '\nchar LICENSE[] SEC("license") = "GPL";\n');
  assert.equal(edit.range.start.line, 2);
  assert.equal(actions[0].kind, 'quickfix');
});

test('an edit updates the diagnostics (incremental sync)', async () => {
  const before = await server.waitForDiagnostics(uri);
  assert.ok(before.some((d) => d.code === 'helper-not-allowed'));
  // delete the bpf_skb_load_bytes line (line 12)
  await server.change(uri, 2, [{ range: { start: { line: 12, character: 0 }, end: { line: 13, character: 0 } }, text: '' }]);
  const after = await server.waitForDiagnostics(uri, (p) => p.version === 2);
  assert.ok(!after.some((d) => d.code === 'helper-not-allowed'));
  assert.ok(after.some((d) => d.code === 'license-missing' && d.range.start.line === 12));
  // put it back
  await server.change(uri, 3, [{ range: { start: { line: 12, character: 0 }, end: { line: 12, character: 0 } }, text: '\tbpf_skb_load_bytes(ctx, 0, buf, sizeof(buf));\n' }]);
  const restored = await server.waitForDiagnostics(uri, (p) => p.version === 3);
  assert.ok(restored.some((d) => d.code === 'helper-not-allowed' && d.range.start.line === 12));
});

test('the target kernel setting drives the version rules', async () => {
  await server.waitForDiagnostics(uri, (p) => p.version === 3);
  const info = (await server.connection.sendRequest('ebpfStudio/targetKernel')) as { version: string; source: string };
  assert.deepEqual({ version: info.version, source: info.source }, { version: '6.1', source: 'setting' });
  assert.ok(!(await server.waitForDiagnostics(uri)).some((d) => d.code === 'map-type-newer-than-kernel'));
  server.configuration = { targetKernel: '5.4' };
  await server.connection.sendNotification('workspace/didChangeConfiguration', { settings: { ebpfStudio: { targetKernel: '5.4' } } });
  const old = await server.waitForDiagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'map-type-newer-than-kernel'));
  assert.equal(old.find((d) => d.code === 'map-type-newer-than-kernel')?.range.start.line, 4);
  const info54 = (await server.connection.sendRequest('ebpfStudio/targetKernel')) as { version: string };
  assert.equal(info54.version, '5.4');
  server.configuration = { targetKernel: '6.1' };
  await server.connection.sendNotification('workspace/didChangeConfiguration', { settings: { ebpfStudio: { targetKernel: '6.1' } } });
  await server.waitForDiagnostics(uri, (p) => !p.diagnostics.some((d) => d.code === 'map-type-newer-than-kernel'));
});

function labels(result: CompletionItem[] | CompletionList | null): string[] {
  const items = Array.isArray(result) ? result : (result?.items ?? []);
  return items.map((item) => item.label);
}

test('completion: helpers filtered by program type, SEC names, map types', async () => {
  const inXdp = (await server.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 20, character: 1 } })) as CompletionItem[];
  const xdpLabels = labels(inXdp);
  assert.ok(xdpLabels.includes('bpf_xdp_adjust_head'));
  assert.ok(xdpLabels.includes('bpf_map_lookup_elem'));
  assert.ok(!xdpLabels.includes('bpf_skb_load_bytes'), 'TC-only helper offered in XDP');
  const lookup = inXdp.find((item) => item.label === 'bpf_map_lookup_elem');
  assert.match(lookup?.detail ?? '', /void \*bpf_map_lookup_elem\(void \*map, const void \*key\) — since 3\.18/);
  assert.ok(messageOf(lookup?.documentation as MarkupContent).includes('Perform a lookup in *map*'));
  const inKprobe = labels((await server.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 11, character: 1 } })) as CompletionItem[]);
  assert.ok(inKprobe.includes('bpf_probe_read_kernel'));
  assert.ok(!inKprobe.includes('bpf_xdp_adjust_head'));
  // inside SEC("…")
  const sections = labels((await server.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 17, character: 5 } })) as CompletionItem[]);
  for (const name of ['tracepoint/', 'kprobe/', 'xdp', 'tc', 'fentry/', 'cgroup_skb/ingress', 'lsm/']) assert.ok(sections.includes(name), name);
  // typed "xd" inside the quotes: the completion replaces what was typed
  const sectionItems = (await server.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 17, character: 7 } })) as CompletionItem[];
  const xdp = sectionItems.find((item) => item.label === 'xdp');
  assert.deepEqual(xdp?.textEdit, { range: { start: { line: 17, character: 5 }, end: { line: 17, character: 7 } }, newText: 'xdp' });
  // after __uint(type,
  const mapTypes = labels((await server.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 4, character: 14 } })) as CompletionItem[]);
  assert.ok(mapTypes.includes('BPF_MAP_TYPE_RINGBUF'));
  assert.ok(mapTypes.includes('BPF_MAP_TYPE_HASH'));
});

test('hover on a helper shows docs, since and availability for the function', async () => {
  const hover = (await server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 12, character: 4 } })) as Hover;
  const text = messageOf(hover.contents as MarkupContent);
  assert.match(text, /long bpf_skb_load_bytes\(const void \*skb, __u32 offset, void \*to, __u32 len\)/);
  assert.match(text, /Kernel since 4\.5/);
  assert.match(text, /not available to kprobe programs/);
  const printk = (await server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 13, character: 3 } })) as Hover;
  assert.match(messageOf(printk.contents as MarkupContent), /`bpf_printk` expands to a call of `bpf_trace_printk`[\s\S]*GPL-only/);
  const none = await server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 11, character: 6 } });
  assert.equal(none, null);
});

test('signature help follows the argument under the cursor', async () => {
  const help = (await server.connection.sendRequest('textDocument/signatureHelp', { textDocument: { uri }, position: { line: 12, character: 29 } })) as SignatureHelp;
  assert.equal(help.signatures[0].label, 'long bpf_skb_load_bytes(const void *skb, __u32 offset, void *to, __u32 len)');
  assert.equal(help.activeParameter, 2);
  assert.equal(help.signatures[0].parameters?.length, 4);
});

test('ebpfStudio/programs: the open document\'s programs with their SEC lines, and a file on disk read from disk', async () => {
  const programs = (await server.connection.sendRequest(ProgramsRequest.method, { uri })) as ProbeProgram[];
  assert.deepEqual(programs, [{ name: 'on_send', section: 'kprobe/tcp_sendmsg', line: 8 }, { name: 'pass', section: 'xdp', line: 17 }]);
  const twoXdp = join(__dirname, '..', 'fixtures', 'programs', 'two-xdp.bpf.c');
  const lines = readFileSync(twoXdp, 'utf8').split('\n');
  const onDisk = (await server.connection.sendRequest(ProgramsRequest.method, { uri: pathToFileURL(twoXdp).href })) as ProbeProgram[];
  assert.deepEqual(onDisk.map((p) => [p.name, lines[p.line]]), [['xdp_pass_all', 'SEC("xdp")'], ['xdp_drop_marked', 'SEC("xdp")']]);
  assert.notEqual(onDisk[0].line, onDisk[1].line);
});
