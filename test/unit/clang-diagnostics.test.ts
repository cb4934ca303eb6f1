// clang's stderr (recorded from clang-19 on a probe including a broken header) → LSP diagnostics per file,
// on clang's line and column, with notes as related information.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseClangDiagnostics } from '../../engine/toolchain/clang-diagnostics';

const recorded = `In file included from probe.bpf.c:1:
./helpers.h:3:13: error: use of undeclared identifier 'missing_in_header'
probe.bpf.c:5:22: error: expected ';' after return statement
probe.bpf.c:8:5: error: conflicting types for 'g'
probe.bpf.c:7:5: note: previous declaration is here
probe.bpf.c:4:6: warning: unused variable 'unused' [-Wunused-variable]
`;

test('clang errors, warnings and notes land on their file and line', () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'clang-diag-'));
  try {
    writeFileSync(join(dir, 'helpers.h'), 'static inline int helper(int x)\n{\n\treturn x + missing_in_header;\n}\n');
    writeFileSync(join(dir, 'probe.bpf.c'), '#include "helpers.h"\nint f(int a)\n{\n\tint unused;\n\treturn helper(a) + 1\n}\nint g(void);\nint g(int x);\n');
    const byFile = parseClangDiagnostics(recorded, dir);
    const header = byFile.get(join(dir, 'helpers.h')) ?? [];
    assert.equal(header.length, 1);
    assert.deepEqual(header[0].range, { start: { line: 2, character: 12 }, end: { line: 2, character: 29 } });
    assert.equal(header[0].source, 'clang');
    const probe = byFile.get(join(dir, 'probe.bpf.c')) ?? [];
    assert.deepEqual(probe.map((d) => [d.range.start.line, d.severity]), [[4, 1], [7, 1], [3, 2]]);
    assert.equal(probe[1].relatedInformation?.[0].message, 'previous declaration is here');
    assert.equal(probe[1].relatedInformation?.[0].location.range.start.line, 6);
    assert.equal(probe[2].code, '-Wunused-variable');
    assert.equal(probe[2].message, "unused variable 'unused'");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
