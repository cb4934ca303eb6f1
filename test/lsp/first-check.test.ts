// The built language server opening a large real file (../shared/realworld probes concatenated to 5,000+ lines):
// the first diagnostics come before the whole check is done, and the rest follow after open without another edit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { LanguageServerProcess } from './language-server-process';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { checkProbeFile } from '../../server/src/rules/rule-engine';
import { allRules } from '../../server/src/rules/index';
import { runningKernelVersion } from '../../server/src/kernel/kernel-version';

const REALWORLD = resolve(__dirname, '..', '..', '..', 'shared', 'realworld');
const skip = existsSync(REALWORLD) ? false : process.env.CI === 'true' ? assert.fail(`needs ${REALWORLD}`) : `needs ${REALWORLD}`;
/** Last in the file, so a check in file order reaches it last: bpf_skb_load_bytes is not allowed in kprobe programs. */
const TAIL = `
SEC("kprobe/tcp_sendmsg")
int first_check_tail(struct pt_regs *ctx)
{
	char buf[4] = {};
	bpf_skb_load_bytes(ctx, 0, buf, sizeof(buf));
	return 0;
}
`;

function probeTexts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return probeTexts(path);
    return entry.name.endsWith('.bpf.c') ? [readFileSync(path, 'utf8')] : [];
  });
}

const servers: LanguageServerProcess[] = [];
after(async () => {
  for (const server of servers) await server.shutdown();
});

const key = (d: Diagnostic) => `${d.code} ${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character} ${d.message}`;

test('opening a 5,000-line file publishes first findings, then every finding of a full check, with no edit in between', { skip }, async () => {
  const probes = probeTexts(REALWORLD);
  const parts: string[] = [];
  for (let lines = 0, i = 0; lines < 5000; i++) {
    parts.push(probes[i % probes.length]);
    lines += probes[i % probes.length].split('\n').length;
  }
  const text = parts.join('\n') + TAIL;
  const tailLine = text.split('\n').findIndex((line) => line.includes('bpf_skb_load_bytes(ctx, 0, buf'));
  const expected = checkProbeFile(await parseProbeFile(text, { targetKernel: runningKernelVersion() }), allRules).map(key).sort();
  assert.ok(expected.some((k) => k.startsWith(`helper-not-allowed ${tailLine}:`)), 'the full check finds the tail function\'s helper-not-allowed');

  const server = new LanguageServerProcess();
  servers.push(server);
  await server.initialize({ settings: { targetKernel: '' } });
  const uri = await server.open('/tmp/ebpf-studio-first-check/realworld-concatenated.bpf.c', text);
  const published: PublishDiagnosticsParams[] = [];
  await server.waitForDiagnostics(
    uri,
    (p) => {
      if (!published.includes(p)) published.push(p);
      return p.version === 1 && p.diagnostics.map(key).sort().join('\n') === expected.join('\n');
    },
    120_000,
  );

  const first = published.find((p) => p.version === 1);
  assert.ok(first, 'a publish for version 1');
  assert.ok(!first.diagnostics.some((d) => d.code === 'helper-not-allowed' && d.range.start.line === tailLine), 'the first publish came before the tail function was checked');
  assert.ok(published.every((p) => p.version === 1), 'no other version was published');
});
