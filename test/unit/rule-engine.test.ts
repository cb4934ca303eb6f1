// The rule engine: LSP diagnostic shape, per-function caching across edits (only touched functions
// re-run, the rest move with their lines), and slow whole-file rules deferred while typing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProbeDocument } from '../../server/src/analysis/probe-document';
import { ProbeChecker, carryDiagnostics, SLOW_FILE_RULE_MS } from '../../server/src/rules/rule-engine';
import type { Rule } from '../../server/src/rules/rule';
import type { Diagnostic } from 'vscode-languageserver-types';

const KERNEL = { major: 6, minor: 1, patch: 0 };
const SOURCE = `SEC("xdp")
int first(struct xdp_md *ctx)
{
	return bpf_ktime_get_ns() ? 1 : 2;
}

SEC("xdp")
int second(struct xdp_md *ctx)
{
	return bpf_ktime_get_ns() ? 1 : 2;
}
`;

function countingRule(runs: string[]): Rule {
  return {
    id: 'license-missing',
    description: 'test rule: flags every helper call',
    verifierMessage: 'test message',
    checkFunction(file, fn) {
      runs.push(fn.name);
      return fn.helperCalls.map((call) => ({ range: file.rangeOf(call.nameNode), message: `calls ${call.name}`, fix: { title: 'noop', edits: [{ range: file.rangeOf(call.nameNode), newText: call.name }] } }));
    },
  };
}

test('diagnostics carry the rule id, docs link, source and verifier quote', async () => {
  const document = await ProbeDocument.open('file:///engine.bpf.c');
  try {
    const [diagnostic] = new ProbeChecker([countingRule([])]).check(document.update(SOURCE, KERNEL).file);
    assert.equal(diagnostic.code, 'license-missing');
    assert.equal(diagnostic.source, 'ebpf-studio');
    assert.equal(diagnostic.severity, 1);
    assert.equal(diagnostic.message, 'calls bpf_ktime_get_ns — the verifier says: "test message"');
    const href = diagnostic.codeDescription?.href;
    assert.ok(href && existsSync(fileURLToPath(href)), href);
    assert.deepEqual(diagnostic.range, { start: { line: 3, character: 8 }, end: { line: 3, character: 24 } });
  } finally {
    document.close();
  }
});

test('an edit re-runs function rules only for the touched function; the others move by line', async () => {
  const runs: string[] = [];
  const checker = new ProbeChecker([countingRule(runs)]);
  const document = await ProbeDocument.open('file:///engine.bpf.c');
  try {
    checker.check(document.update(SOURCE, KERNEL).file);
    assert.deepEqual(runs.sort(), ['first', 'second']);
    runs.length = 0;
    const edited = SOURCE.replace('return bpf_ktime_get_ns() ? 1 : 2;\n}', 'u64 now = 0;\n\tnow++;\n\treturn bpf_ktime_get_ns() ? 1 : 2;\n}');
    const diagnostics = checker.check(document.update(edited, KERNEL).file);
    assert.deepEqual(runs, ['first']);
    assert.deepEqual(diagnostics.map((d) => d.range.start.line), [5, 11]);
    const moved = diagnostics[1].data as { fix: { edits: { range: { start: { line: number } } }[] } };
    assert.equal(moved.fix.edits[0].range.start.line, 11);
  } finally {
    document.close();
  }
});

test('a slow whole-file rule is deferred by checkQuickly and carried to the new lines', async () => {
  let runs = 0;
  const slowRule: Rule = {
    id: 'unknown-section',
    description: 'test rule: slow, flags the last line with a return',
    verifierMessage: 'slow',
    check(file) {
      runs++;
      const until = performance.now() + SLOW_FILE_RULE_MS * 2;
      while (performance.now() < until);
      const line = file.lines.map((text, index) => (text.includes('return') ? index : -1)).filter((index) => index >= 0).pop() ?? 0;
      return [{ range: { start: { line, character: 1 }, end: { line, character: 7 } }, message: 'last return' }];
    },
  };
  const checker = new ProbeChecker([slowRule]);
  const document = await ProbeDocument.open('file:///slow.bpf.c');
  try {
    assert.equal(checker.checkQuickly(document.update(SOURCE, KERNEL).file).diagnostics[0].range.start.line, 9);
    assert.equal(runs, 1);
    const edited = `// a comment\n${SOURCE}`;
    const quick = checker.checkQuickly(document.update(edited, KERNEL).file);
    assert.deepEqual(quick.deferred, ['unknown-section']);
    assert.equal(runs, 1);
    assert.equal(quick.diagnostics[0].range.start.line, 10);
    const full = checker.check(document.file ?? assert.fail('no file'));
    assert.equal(runs, 2);
    assert.equal(full[0].range.start.line, 10);
  } finally {
    document.close();
  }
});

test('carryDiagnostics keeps lines above an edit, moves lines below, drops the edited ones', () => {
  const at = (line: number): Diagnostic => ({ range: { start: { line, character: 0 }, end: { line, character: 1 } }, message: String(line), data: { ruleId: 'x' } });
  const before = 'a\nb\nc\nd\n';
  const after = 'a\nB1\nB2\nc\nd\n';
  assert.deepEqual(carryDiagnostics([at(0), at(1), at(3)], before, after).map((d) => d.range.start.line), [0, 4]);
});

test('in editor mode, half-typed code that breaks the parse keeps the last diagnostics', async () => {
  const runs: string[] = [];
  const checker = new ProbeChecker([countingRule(runs)], undefined, true);
  const document = await ProbeDocument.open('file:///broken.bpf.c');
  try {
    const good = checker.check(document.update(SOURCE, KERNEL).file);
    assert.deepEqual(good.map((d) => d.range.start.line), [3, 9]);
    // an unclosed call at the top swallows both functions into one error
    const broken = checker.check(document.update(`int x = f(\n${SOURCE}`, KERNEL).file);
    assert.deepEqual(broken.map((d) => d.range.start.line), [4, 10]);
    const fixed = checker.check(document.update(`int x = 1;\n${SOURCE}`, KERNEL).file);
    assert.deepEqual(fixed.map((d) => d.range.start.line), [4, 10]);
    const oneShot = new ProbeChecker([countingRule([])]).check(document.update(`int x = f(\n${SOURCE}`, KERNEL).file);
    assert.ok(oneShot.length < 2, 'the CLI mode reports only what parses');
  } finally {
    document.close();
  }
});
