// `ebpf-studio check --verify` on this kernel: the JSON output has the static check's shape with the kernel's
// diagnostics (sources 'verifier' and 'clang') on the kernel's lines, and the exit status says whether any failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Diagnostic } from 'vscode-languageserver-types';
import { runCheckCommand } from '../../../cli/src/check-command';
import { agentBundle, probesDir, skipUnlessReady } from './agent-under-test';

const skip = skipUnlessReady();

async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  process.env.EBPF_STUDIO_AGENT = agentBundle();
  const code = await runCheckCommand(args, out, err);
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

test('check --verify --format json: verifier and clang diagnostics in the static check\'s shape', { skip, timeout: 120_000 }, async () => {
  const mixed = join(probesDir, 'mixed.bpf.c');
  const broken = join(probesDir, 'compile-error.bpf.c');
  const { code, stdout, stderr } = await check(['--verify', '--target', 'local', '--format', 'json', mixed, broken]);
  assert.equal(code, 1, stderr);
  const results = JSON.parse(stdout) as { file: string; diagnostics: Diagnostic[] }[];
  const of = (file: string, source: string) => results.find((r) => r.file === file)?.diagnostics.filter((d) => d.source === source) ?? [];
  const [rejected] = of(mixed, 'verifier');
  assert.equal(rejected.range.start.line, 32);
  assert.equal(rejected.severity, 1);
  assert.equal(rejected.code, 'null-map-value');
  const [clang] = of(broken, 'clang');
  assert.equal(clang.range.start.line, 7);
  assert.match(stderr, /count_getpid: accepted, \d+ of 1,000,000 insns processed/);
});

test('check --verify exits 0 on an accepted probe, 2 on a bad --log-level', { skip, timeout: 120_000 }, async () => {
  const accepted = await check(['--verify', join(probesDir, 'long-loop.bpf.c')]);
  assert.equal(accepted.code, 0, accepted.stdout + accepted.stderr);
  const bad = await check(['--verify', '--log-level', '3', join(probesDir, 'long-loop.bpf.c')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--log-level is 1 or 2/);
});
