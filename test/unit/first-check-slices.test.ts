// The rule engine's first check of a document in time slices: each slice checks part of the file and keeps it,
// the slices together give exactly what one full check gives, and once complete, edits are checked whole again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeDocument } from '../../server/src/analysis/probe-document';
import { ProbeChecker } from '../../server/src/rules/rule-engine';
import type { Rule } from '../../server/src/rules/rule';

const KERNEL = { major: 6, minor: 1, patch: 0 };
const FUNCTIONS = ['first', 'second', 'third', 'fourth'];
const SOURCE = FUNCTIONS.map((name) => `SEC("xdp")\nint ${name}(struct xdp_md *ctx)\n{\n\treturn bpf_ktime_get_ns() ? 1 : 2;\n}\n`).join('\n');

function rules(runs: string[]): Rule[] {
  return [
    {
      id: 'license-missing',
      description: 'test rule: flags every helper call',
      verifierMessage: 'test message',
      checkFunction(file, fn) {
        runs.push(fn.name);
        return fn.helperCalls.map((call) => ({ range: file.rangeOf(call.nameNode), message: `${fn.name} calls ${call.name}` }));
      },
    },
    {
      id: 'unknown-section',
      description: 'test rule: one finding for the whole file',
      verifierMessage: 'test message',
      check(file) {
        runs.push('whole file');
        return [{ range: file.rangeOf(file.root), message: `${file.functions.length} functions` }];
      },
    },
  ];
}

test('a first check in slices of no time checks one part per call, keeps it, and ends with what one full check finds', async () => {
  const document = await ProbeDocument.open('file:///slices.bpf.c');
  try {
    const file = document.update(SOURCE, KERNEL).file;
    const runs: string[] = [];
    const checker = new ProbeChecker(rules(runs));
    const published: number[] = [];
    let quick = checker.checkQuickly(file, 0);
    published.push(quick.diagnostics.length);
    for (let call = 0; quick.incomplete && call < 10; call++) {
      quick = checker.checkQuickly(file, 0);
      published.push(quick.diagnostics.length);
    }
    assert.equal(quick.incomplete, false);
    assert.ok(published[0] < FUNCTIONS.length + 1, `the first slice published ${published[0]} findings, all of them`);
    assert.ok(published.length > 1 && published.length <= FUNCTIONS.length + 1, `slices: ${published.join(', ')}`);
    assert.deepEqual(runs.sort(), [...FUNCTIONS, 'whole file'].sort(), 'every function and rule ran exactly once over the slices');
    assert.deepEqual(quick.diagnostics, new ProbeChecker(rules([])).check(file));
  } finally {
    document.close();
  }
});

test('after a complete first check, an edit is checked in one call whatever the slice', async () => {
  const document = await ProbeDocument.open('file:///slices-edit.bpf.c');
  try {
    const runs: string[] = [];
    const checker = new ProbeChecker(rules(runs));
    const first = checker.checkQuickly(document.update(SOURCE, KERNEL).file);
    assert.equal(first.incomplete, false);
    const edited = SOURCE.replace('int second(struct xdp_md *ctx)\n{\n', 'int second(struct xdp_md *ctx)\n{\n\tbpf_ktime_get_ns();\n');
    const file = document.update(edited, KERNEL).file;
    const quick = checker.checkQuickly(file, 0);
    assert.equal(quick.incomplete, false);
    assert.deepEqual(quick.diagnostics, new ProbeChecker(rules([])).check(file));
  } finally {
    document.close();
  }
});
