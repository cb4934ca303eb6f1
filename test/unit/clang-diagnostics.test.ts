// clang's stderr (clang-19 run for real on a probe including a broken header, and on one with only a warning) → LSP
// diagnostics per file, on clang's line and column, with notes as related information.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseClangDiagnostics } from '../../engine/toolchain/clang-diagnostics';
import { skipUnless } from '../kernel/kernel-prerequisites';

const skip = skipUnless(spawnSync('clang-19', ['--version']).status === 0 ? undefined : 'clang-19', 'the clang diagnostics tests');

/** clang-19's stderr for `file` in `dir`, with the flags the product compiles with (no colour, no caret lines). */
function clangSays(dir: string, file: string): string {
  return spawnSync('clang-19', ['-target', 'bpf', '-fsyntax-only', '-Wall', '-fno-color-diagnostics', '-fno-caret-diagnostics', file], { cwd: dir, encoding: 'utf8' }).stderr;
}

test('clang errors, warnings and notes land on their file and line', { skip }, () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'clang-diag-'));
  try {
    writeFileSync(join(dir, 'helpers.h'), 'static inline int helper(int x)\n{\n\treturn x + missing_in_header;\n}\n');
    writeFileSync(join(dir, 'probe.bpf.c'), '#include "helpers.h"\nint f(int a)\n{\n\treturn helper(a) + 1\n}\nint g(void);\nint g(int x);\n');
    writeFileSync(join(dir, 'warning.bpf.c'), 'int f(void)\n{\n\tint unused;\n\treturn 0;\n}\n');
    const byFile = parseClangDiagnostics(clangSays(dir, 'probe.bpf.c'), dir);
    const header = byFile.get(join(dir, 'helpers.h')) ?? [];
    assert.equal(header.length, 1);
    assert.deepEqual(header[0].range, { start: { line: 2, character: 12 }, end: { line: 2, character: 29 } });
    assert.equal(header[0].source, 'clang');
    const probe = byFile.get(join(dir, 'probe.bpf.c')) ?? [];
    assert.deepEqual(probe.map((d) => [d.range.start.line, d.severity]), [[3, 1], [6, 1]]);
    assert.equal(probe[1].relatedInformation?.[0].message, 'previous declaration is here');
    assert.equal(probe[1].relatedInformation?.[0].location.range.start.line, 5);
    const [warning] = parseClangDiagnostics(clangSays(dir, 'warning.bpf.c'), dir).get(join(dir, 'warning.bpf.c')) ?? [];
    assert.deepEqual([warning.range.start.line, warning.severity], [2, 2]);
    assert.equal(warning.code, '-Wunused-variable');
    assert.equal(warning.message, "unused variable 'unused'");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
