// Applies every quick fix the rules offer on their bad examples (each example says whether it has one) and checks the
// fixed text no longer has that finding and still parses. Talks to the rule engine and the parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic, TextEdit } from 'vscode-languageserver-types';
import { allRules } from '../../server/src/rules/index';
import { checkProbeFile, type DiagnosticData } from '../../server/src/rules/rule-engine';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { parseKernelVersion } from '../../server/src/kernel/kernel-version';
import type { Rule } from '../../server/src/rules/rule';
import { readRuleExamples, type RuleExample } from '../../scripts/rule-examples';

function applyEdits(text: string, edits: TextEdit[]): string {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const offset = (p: { line: number; character: number }) => lineStarts[p.line] + p.character;
  return [...edits]
    .sort((a, b) => offset(b.range.start) - offset(a.range.start))
    .reduce((current, edit) => current.slice(0, offset(edit.range.start)) + edit.newText + current.slice(offset(edit.range.end)), text);
}

async function diagnose(rule: Rule, example: RuleExample, text: string): Promise<Diagnostic[]> {
  const targetKernel = parseKernelVersion(example.targetKernel ?? '6.18');
  assert.ok(targetKernel);
  const file = await parseProbeFile(text, { targetKernel });
  return checkProbeFile(file, [rule]).filter((d) => d.code === rule.id);
}

let fixesTried = 0;

for (const rule of allRules) {
  for (const example of readRuleExamples(rule.id).bad) {
    test(`${example.name}: ${example.quickFix ? 'its quick fix removes the finding' : 'says no quick fix, and none is offered'}`, async () => {
      const before = await diagnose(rule, example, example.code);
      const fixes = before.flatMap((diagnostic) => {
        const fix = (diagnostic.data as DiagnosticData | undefined)?.fix;
        return fix ? [{ diagnostic, fix }] : [];
      });
      const onFlaggedLine = fixes.filter(({ diagnostic }) => diagnostic.range.start.line + 1 === example.line);
      assert.equal(onFlaggedLine.length > 0, example.quickFix, example.quickFix
        ? `no quick fix on line ${example.line}; mark the line '// <- flagged (no quick fix)' if none is meant`
        : `a quick fix is offered on line ${example.line}, but the example says '(no quick fix)'`);
      for (const { diagnostic, fix } of fixes) {
        fixesTried++;
        const fixed = applyEdits(example.code, fix.edits);
        assert.notEqual(fixed, example.code, `${fix.title} changes nothing`);
        const after = await diagnose(rule, example, fixed);
        const sameSpot = after.filter((d) => d.message === diagnostic.message);
        assert.deepEqual(sameSpot.map((d) => d.message), [], `after "${fix.title}" the finding is still there:\n${fixed}`);
        assert.ok(after.length < before.length, `after "${fix.title}" there are still ${after.length} findings:\n${fixed}`);
        const parsed = await parseProbeFile(fixed, { targetKernel: parseKernelVersion('6.18') ?? { major: 6, minor: 18, patch: 0 } });
        assert.ok(!parsed.root.hasError || (await parseProbeFile(example.code, { targetKernel: parsed.targetKernel })).root.hasError, `"${fix.title}" produced text that no longer parses:\n${fixed}`);
      }
    });
  }
}

test('the flow rules offer quick fixes (null check, clamp, zero-initialise, bounds check, release, CO-RE read)', () => {
  assert.ok(fixesTried >= 8, `only ${fixesTried} quick fixes were exercised`);
});
