// The verifier log view's text on recorded logs: kernel source annotations labelled and linked to the probe's
// file and line, instructions linked to their line, the failing path and the error marked; code lens figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProgramReport } from '../../engine/verify/verify-probe';
import { programFigures, renderVerifierLog } from '../../client/src/verify/verifier-log-rendering';

const fixtures = join(__dirname, '..', 'fixtures');
const source = join(fixtures, 'verifier-probes', 'mixed.bpf.c');

function report(log: string, accepted: boolean, logLevel: 1 | 2 = 1): ProgramReport {
  return { name: 'count_getppid', section: 'tracepoint/syscalls/sys_enter_getppid', accepted, log, logTruncated: false, logLevel, loaderMessages: [], insnCount: 12, ...(accepted ? {} : { errno: 13 }) };
}

test('source annotations become "file:line │ code" links to the probe, instructions link to their line', () => {
  const rendered = renderVerifierLog(source, report(readFileSync(join(fixtures, 'verifier-logs', 'mixed.log'), 'utf8'), false), 'local');
  const lines = rendered.text.split('\n');
  assert.match(lines[0], /^# count_getppid \(tracepoint\/syscalls\/sys_enter_getppid\) on local: rejected, errno 13 · log level 1$/);
  const annotated = lines.findIndex((l) => l === '  mixed.bpf.c:33 │ *value += 1;');
  assert.ok(annotated > 0, 'the annotation of line 33 is shown');
  assert.deepEqual(rendered.links.find((l) => l.line === annotated), { line: annotated, path: source, sourceLine: 33 });
  const failing = lines.findIndex((l) => l.startsWith('7: (79) r1 = *(u64 *)(r0 +0)'));
  assert.deepEqual(rendered.links.find((l) => l.line === failing), { line: failing, path: source, sourceLine: 33 });
  assert.ok(rendered.errorLines.includes(failing), 'the failing instruction is marked');
  assert.ok(rendered.errorLines.includes(lines.indexOf("R0 invalid mem access 'map_value_or_null'")), 'the kernel message is marked');
  assert.ok(rendered.pathLines.includes(annotated) && !rendered.pathLines.includes(lines.indexOf('verification time 47 usec')), 'the path is instructions and annotations');
});

test('accepted programs and level-2 logs mark no failing path; figures read like the code lens', () => {
  const accepted = { ...report(readFileSync(join(fixtures, 'verifier-logs', 'accepted-vmlinux.log'), 'utf8'), true), insnsProcessed: 31, stackDepth: [16, 8], verificationTimeUs: 92 };
  const rendered = renderVerifierLog(source, accepted, 'web1');
  assert.deepEqual(rendered.pathLines, []);
  assert.deepEqual(rendered.errorLines, []);
  assert.equal(programFigures(accepted), '31 of 1,000,000 insns (0.00%) · stack 24 B (16+8) of 512 · 92 µs');
  assert.match(rendered.text, /^# count_getppid .* on web1: accepted · log level 1\n# 31 of 1,000,000 insns/);
  const level2 = renderVerifierLog(source, report(readFileSync(join(fixtures, 'verifier-logs', 'mixed.log'), 'utf8'), false, 2), 'local');
  assert.deepEqual(level2.pathLines, []);
  assert.ok(level2.errorLines.length > 0);
});
