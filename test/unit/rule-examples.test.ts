// Runs every registered rule's fixture examples (test/fixtures/rules/<id>/) through the rule engine: each bad
// example must produce the rule's finding on its marked line, each good example none; every rule has a docs page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { allRules } from '../../server/src/rules/index';
import { checkProbeFile } from '../../server/src/rules/rule-engine';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { parseKernelVersion } from '../../server/src/kernel/kernel-version';
import type { Rule } from '../../server/src/rules/rule';
import { readRuleExamples, RULE_EXAMPLES_DIRECTORY, type RuleExample } from '../../scripts/rule-examples';

const DEFAULT_KERNEL = '6.18';

async function findingsOf(rule: Rule, example: RuleExample) {
  const targetKernel = parseKernelVersion(example.targetKernel ?? DEFAULT_KERNEL);
  assert.ok(targetKernel, `bad targetKernel ${example.targetKernel}`);
  const file = await parseProbeFile(example.code, { targetKernel });
  const failures: unknown[] = [];
  const diagnostics = checkProbeFile(file, [rule], (failure) => failures.push(failure.error));
  assert.deepEqual(failures, [], `${rule.id} threw`);
  return diagnostics.filter((d) => d.code === rule.id);
}

test('rule ids are unique and kebab-case', () => {
  const ids = allRules.map((rule) => rule.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
});

test('every example directory belongs to a registered rule', () => {
  const ids = new Set(allRules.map((rule) => rule.id));
  assert.deepEqual(readdirSync(RULE_EXAMPLES_DIRECTORY).filter((name) => !ids.has(name)), []);
});

for (const rule of allRules) {
  const examples = readRuleExamples(rule.id);
  test(`${rule.id}: has docs, examples and a check`, () => {
    assert.ok(existsSync(join(__dirname, '../../docs/rules', `${rule.id}.md`)), `docs/rules/${rule.id}.md is missing`);
    assert.ok(examples.bad.length > 0, 'no bad example');
    assert.ok(examples.good.length > 0, 'no good example');
    assert.ok(rule.check || rule.checkFunction, 'neither check nor checkFunction');
    assert.ok(rule.verifierMessage.length > 0);
  });

  for (const example of examples.bad) {
    test(`${example.name} is flagged on line ${example.line}`, async () => {
      assert.ok(example.line, 'a bad example must give its line');
      const findings = await findingsOf(rule, example);
      const lines = findings.map((d) => d.range.start.line + 1);
      assert.ok(lines.includes(example.line), `expected a finding on line ${example.line}, got lines [${lines.join(', ')}]`);
      for (const finding of findings) {
        assert.equal(finding.source, 'ebpf-studio');
        assert.match(typeof finding.message === 'string' ? finding.message : finding.message.value, / — the verifier says: ".+"$/);
      }
    });
  }

  for (const example of examples.good) {
    test(`${example.name} is left alone`, async () => {
      const findings = await findingsOf(rule, example);
      assert.deepEqual(findings.map((d) => `${d.range.start.line + 1}: ${JSON.stringify(d.message)}`), []);
    });
  }
}
