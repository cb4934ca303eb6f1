// The language server with this machine's live feature probe (the agent's featureProbe, sent as the editor sends it):
// helper-not-allowed and hover follow the probe and say so; without it they name the snapshot and its kernel release.
// Talks to the agent (root) and to the built language server over LSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { TargetHelperFactsNotification, TargetKernelRequest, type TargetHelperFacts } from '../../protocol/lsp-requests';
import { SNAPSHOT_KERNEL_RELEASE } from '../../server/src/kernel/helper-availability';
import { LanguageServerProcess } from '../lsp/language-server-process';
import { agentBundle, skipUnlessReady } from './verify/agent-under-test';
import type { Diagnostic, Hover, MarkupContent } from 'vscode-languageserver-protocol';

const skip = skipUnlessReady('live helper facts tests');

const PROBE = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp/syscalls/sys_enter_openat")
int on_open(void *ctx)
{
	bpf_xdp_adjust_head(ctx, 0);
	bpf_get_current_pid_tgid();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

let facts: TargetHelperFacts;
let server: LanguageServerProcess;
let uri: string;

before(async () => {
  if (skip) return;
  const agent = await connectLocalAgent({ agentPath: agentBundle() });
  try {
    const probe = await agent.request('featureProbe', {}, { timeoutMs: 120_000 });
    facts = { target: 'local', kernelRelease: probe.kernelRelease, programTypes: probe.programTypes };
  } finally {
    await agent.close();
  }
  server = new LanguageServerProcess();
  await server.initialize();
  uri = await server.open('/tmp/ebpf-studio-live-helper-facts/probe.bpf.c', PROBE);
});

after(async () => {
  await server?.shutdown();
});

const notAllowed = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => d.code === 'helper-not-allowed');
const messageOf = (d: Diagnostic) => (typeof d.message === 'string' ? d.message : d.message.value);
const hoverText = async (line: number, character: number) => ((await server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } })) as Hover).contents as MarkupContent;

test('the live probe decides which helpers a tracepoint may call, and the finding and hover say it did', { skip }, async () => {
  const tracepoint = facts.programTypes.find((p) => p.type === 'tracepoint');
  assert.ok(tracepoint?.helpersProbed, 'the probe judged tracepoint programs');
  assert.ok(!tracepoint.helpers.includes('xdp_adjust_head') && tracepoint.helpers.includes('get_current_pid_tgid'), 'what this kernel answers');

  const live = `live feature probe of local, kernel ${release()}`;
  await server.connection.sendNotification(TargetHelperFactsNotification.method, facts);
  const findings = notAllowed(await server.waitForDiagnostics(uri, (p) => notAllowed(p.diagnostics).some((d) => messageOf(d).includes(live))));
  assert.deepEqual(findings.map((d) => d.range.start.line), [6], 'only bpf_xdp_adjust_head, the helper the probe refuses');
  assert.match(messageOf(findings[0]), /bpf_xdp_adjust_head is not available to tracepoint programs \[live feature probe of local, kernel /);
  assert.match((await hoverText(6, 6)).value, new RegExp(`not available to tracepoint programs[\\s\\S]*per the ${live.replace(/[.]/g, '\\.')}`));

  const info = await server.connection.sendRequest(TargetKernelRequest);
  assert.equal(info.source, 'target');
  assert.match(info.helperFacts, /^live feature probe of local/);
});

test('without a probe the snapshot answers, labelled with the kernel release it was measured on', { skip }, async () => {
  const snapshot = `eBPF Studio's helper tables, measured on kernel ${SNAPSHOT_KERNEL_RELEASE}`;
  await server.connection.sendNotification(TargetHelperFactsNotification.method, null);
  const findings = notAllowed(await server.waitForDiagnostics(uri, (p) => notAllowed(p.diagnostics).some((d) => messageOf(d).includes(snapshot))));
  assert.deepEqual(findings.map((d) => d.range.start.line), [6]);
  assert.match((await hoverText(6, 6)).value, /per the eBPF Studio's helper tables, measured on kernel /);
  const info = await server.connection.sendRequest(TargetKernelRequest);
  assert.equal(info.source, 'running');
  assert.equal(info.helperFacts, snapshot);

});

test('a payload that is not a probe result is refused and changes nothing', { skip }, async () => {
  await server.connection.sendNotification(TargetHelperFactsNotification.method, facts);
  for (const bad of [{ target: 5 }, { ...facts, programTypes: [{ type: 'tracepoint', helpersProbed: true, helpers: 'all' }] }, 'x']) {
    await server.connection.sendNotification(TargetHelperFactsNotification.method, bad);
  }
  const info = await server.connection.sendRequest(TargetKernelRequest);
  assert.match(info.helperFacts, /^live feature probe of local/);
  assert.ok(server.alive);
});
