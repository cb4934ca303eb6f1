// Bad input over real LSP: random mutations of the probe fixtures (half-typed code, unbalanced
// braces and macros), a 50,000-line file and binary garbage; the server must always answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LanguageServerProcess } from './language-server-process';

const FIXTURE_DIRS = ['../fixtures/corpus', '../fixtures/verifier-probes', '../../bpf-templates'].map((d) => join(__dirname, d));
const FRAGMENTS = ['{', '}', '(', ')', '"', "'", '/*', '*/', 'SEC("', '__uint(type, ', 'BPF_KPROBE(', 'bpf_for(i, 0, ', '#if 1\n', '\\\n', ';', 'if (', 'struct {', '\0', '\u00e9', '\ud83d\ude00', 'bpf_map_lookup_elem(&', '->'];

function probeFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return probeFiles(path);
    return entry.name.endsWith('.bpf.c') ? [path] : [];
  });
}

/** A small deterministic generator, so a failing mutation can be reproduced from the seed. */
function seededRandom(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
}

function mutate(text: string, random: (below: number) => number): string {
  const at = random(text.length + 1);
  const length = random(Math.min(200, text.length - at) + 1);
  switch (random(5)) {
    case 0:
      return text.slice(0, at) + text.slice(at + length);
    case 1:
      return text.slice(0, at) + FRAGMENTS[random(FRAGMENTS.length)] + text.slice(at);
    case 2:
      return text.slice(0, at) + text.slice(at, at + length) + text.slice(at);
    case 3:
      return text.slice(0, at);
    default:
      return text.slice(0, at) + text.slice(at, at + length).split('').reverse().join('') + text.slice(at + length);
  }
}

let server: LanguageServerProcess;

before(async () => {
  server = new LanguageServerProcess();
  await server.initialize();
});

after(async () => {
  await server.shutdown();
});

test('random mutations of the probe fixtures: every change is answered', { timeout: 240000 }, async () => {
  const files = FIXTURE_DIRS.flatMap(probeFiles);
  assert.ok(files.length >= 5, `expected probe fixtures under ${FIXTURE_DIRS.join(', ')}`);
  const random = seededRandom(20261127);
  for (const [index, path] of files.entries()) {
    let text = readFileSync(path, 'utf8');
    const uri = await server.open(`/tmp/ebpf-studio-fuzz/${index}.bpf.c`, text);
    await server.waitForDiagnostics(uri, (p) => p.version === 1);
    for (let version = 2; version <= 9; version++) {
      text = mutate(text, random);
      await server.change(uri, version, [{ text }]);
      const lines = text.split('\n');
      const line = random(lines.length);
      const position = { line, character: random(lines[line].length + 1) };
      const answers = await Promise.all([
        server.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position }),
        server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position }),
        server.connection.sendRequest('textDocument/signatureHelp', { textDocument: { uri }, position }),
        server.waitForDiagnostics(uri, (p) => p.version === version, 10000),
      ]);
      assert.ok(Array.isArray(answers[0]) || answers[0] != null, `${path} v${version}: no completion answer`);
    }
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    assert.ok(server.alive, `server died on a mutation of ${path}`);
  }
  assert.equal(server.stderr.join('').includes('unexpected error'), false, server.stderr.join(''));
});

test('a 50,000-line file is checked and still answers completion', { timeout: 60000 }, async () => {
  const parts = ['#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n'];
  let lines = 2;
  for (let i = 0; lines < 50000; i++) {
    parts.push(`SEC("tp/syscalls/sys_enter_openat")\nint probe_${i}(void *ctx)\n{\n\tu32 key = ${i};\n\tu64 *value = bpf_map_lookup_elem(&counts, &key);\n\tif (value)\n\t\t__sync_fetch_and_add(value, 1);\n\tbpf_printk("hit %d", key);\n\treturn 0;\n}\n`);
    lines += 10;
  }
  const text = parts.join('');
  const uri = await server.open('/tmp/ebpf-studio-fuzz/huge.bpf.c', text);
  const diagnostics = await server.waitForDiagnostics(uri, (p) => p.version === 1, 50000);
  assert.ok(diagnostics.some((d) => d.code === 'license-missing'));
  const items = await server.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 7, character: 1 } });
  assert.ok(Array.isArray(items) && items.length > 50);
  await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
});

test('binary garbage is answered', async () => {
  const random = seededRandom(7);
  const garbage = Array.from({ length: 30000 }, () => String.fromCharCode(random(0x3000))).join('');
  const uri = await server.open('/tmp/ebpf-studio-fuzz/garbage.bpf.c', garbage);
  await server.waitForDiagnostics(uri, (p) => p.version === 1, 20000);
  const hover = await server.connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 5 } });
  assert.ok(hover === null || typeof hover === 'object');
  assert.ok(server.alive);
});
