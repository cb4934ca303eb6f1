// Applies the static rules' quick fixes to kernel-rejected corpus probes and loads the result through this
// kernel's verifier: once no error is left, the kernel must accept the probe. Talks to the rule engine, clang and bpftool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiagnosticSeverity, type TextEdit } from 'vscode-languageserver-types';
import { allRules } from '../../server/src/rules/index';
import { checkProbeFile, type DiagnosticData } from '../../server/src/rules/rule-engine';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { runningKernelVersion } from '../../server/src/kernel/kernel-version';
import { corpusDir, verifyProbeAsync, vmlinuxIncludeDir } from '../../scripts/corpus-verdicts';
import { readExpected } from '../../scripts/record-corpus';
import { skipUnlessReady } from './kernel-prerequisites';


function applyEdits(text: string, edits: TextEdit[]): string {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const offset = (p: { line: number; character: number }) => lineStarts[p.line] + p.character;
  return [...edits]
    .sort((a, b) => offset(b.range.start) - offset(a.range.start))
    .reduce((current, edit) => current.slice(0, offset(edit.range.start)) + edit.newText + current.slice(offset(edit.range.end)), text);
}

/** Applies the first error's quick fix until no error with a fix is left; returns the text and whether errors remain. */
async function applyQuickFixes(text: string): Promise<{ text: string; titles: string[]; errorsLeft: number }> {
  const titles: string[] = [];
  for (let round = 0; round < 6; round++) {
    const file = await parseProbeFile(text, { targetKernel: runningKernelVersion() });
    const errors = checkProbeFile(file, allRules).filter((d) => d.severity === DiagnosticSeverity.Error);
    const fixable = errors.find((d) => (d.data as DiagnosticData | undefined)?.fix);
    if (!fixable) return { text, titles, errorsLeft: errors.length };
    const fix = (fixable.data as DiagnosticData).fix as NonNullable<DiagnosticData['fix']>;
    titles.push(fix.title);
    text = applyEdits(text, fix.edits);
  }
  return { text, titles, errorsLeft: -1 };
}

const skip = skipUnlessReady('quick-fixes-verified');

test('quick fixes turn kernel-rejected corpus probes into probes this kernel accepts', { skip, timeout: 300_000 }, async () => {
  const includeDir = vmlinuxIncludeDir();
  const work = mkdtempSync(join(tmpdir(), 'ebpf-quick-fix-'));
  try {
    const accepted: string[] = [];
    const refused: string[] = [];
    for (const [name, entry] of Object.entries(readExpected())) {
      if (entry.verdict !== 'rejected') continue;
      const fixed = await applyQuickFixes(readFileSync(join(corpusDir, name), 'utf8'));
      if (fixed.titles.length === 0 || fixed.errorsLeft !== 0) continue;
      const path = join(work, name);
      writeFileSync(path, fixed.text);
      const verdict = await verifyProbeAsync(path, includeDir);
      if (verdict.verdict === 'accepted') accepted.push(name);
      else refused.push(`${name} after [${fixed.titles.join('; ')}]: ${verdict.verdict} ${verdict.message}`);
    }
    console.log(`quick fixes: ${accepted.length} kernel-rejected probes accepted after fixing, ${refused.length} still refused`);
    assert.deepEqual(refused, [], 'a probe the static rules call clean after their fixes is still refused by the kernel');
    assert.ok(accepted.length >= 15, `only ${accepted.length} probes fixed`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
