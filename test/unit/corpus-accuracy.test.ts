// Measures the static rules against the kernel-verified corpus (test/fixtures/corpus/expected.json):
// share of rejected probes flagged on the kernel's or the fix line, and errors on accepted probes and ../shared/realworld. Talks to the rule engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver-types';
import { allRules } from '../../server/src/rules/index';
import { checkProbeFile } from '../../server/src/rules/rule-engine';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { runningKernelVersion } from '../../server/src/kernel/kernel-version';

interface CorpusEntry {
  kernelRelease: string;
  verdict: 'accepted' | 'rejected' | 'compile-error';
  message: string;
  line?: number;
  fixLine?: number;
  fixReason?: string;
}

const corpusDir = join(__dirname, '../fixtures/corpus');
const expected = JSON.parse(readFileSync(join(corpusDir, 'expected.json'), 'utf8')) as Record<string, CorpusEntry>;

export interface CorpusResult {
  name: string;
  entry: CorpusEntry;
  diagnostics: Diagnostic[];
  errors: Diagnostic[];
  flaggedOnLine: boolean;
  /** Flagged on the very line the kernel (or clang) named. */
  flaggedOnKernelLine: boolean;
}

async function checkCorpus(): Promise<CorpusResult[]> {
  const results: CorpusResult[] = [];
  for (const name of Object.keys(expected).sort()) {
    const entry = expected[name];
    const text = readFileSync(join(corpusDir, name), 'utf8');
    const file = await parseProbeFile(text, { uri: `file://${join(corpusDir, name)}`, targetKernel: runningKernelVersion() });
    const failures: string[] = [];
    const diagnostics = checkProbeFile(file, allRules, (failure) => failures.push(`${failure.ruleId}: ${String(failure.error)}`));
    assert.deepEqual(failures, [], `rules threw on ${name}`);
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    const lines = new Set([entry.line, entry.fixLine].filter((l): l is number => l !== undefined));
    results.push({ name, entry, diagnostics, errors, flaggedOnLine: errors.some((d) => lines.has(d.range.start.line + 1)), flaggedOnKernelLine: errors.some((d) => d.range.start.line + 1 === entry.line) });
  }
  return results;
}

test('the corpus on disk and expected.json list the same probes, each verdict with its kernel release', () => {
  const onDisk = readdirSync(corpusDir).filter((n) => n.endsWith('.bpf.c')).sort();
  assert.deepEqual(Object.keys(expected).sort(), onDisk);
  const unlabelled = Object.keys(expected).filter((name) => !/^\d+\.\d+/.test(expected[name].kernelRelease ?? ''));
  assert.deepEqual(unlabelled, [], 'every verdict names the kernel release it was recorded on (npm run record:corpus writes it)');
});

test('static rules flag ≥ 90% of kernel-rejected probes on the kernel\'s own line (all but one on the kernel\'s or the fix line) and raise no error on accepted ones', async () => {
  const results = await checkCorpus();
  const rejected = results.filter((r) => r.entry.verdict !== 'accepted');
  const accepted = results.filter((r) => r.entry.verdict === 'accepted');
  const caught = rejected.filter((r) => r.flaggedOnLine);
  const falseErrors = accepted.filter((r) => r.errors.length > 0);
  const describe = (d: Diagnostic) => `${d.range.start.line + 1} ${String(d.code)}`;
  for (const r of rejected.filter((x) => !x.flaggedOnLine)) {
    console.log(`  missed  ${r.name}: kernel line ${r.entry.line ?? '-'}${r.entry.fixLine ? ` / fix line ${r.entry.fixLine}` : ''}; errors at [${r.errors.map(describe).join(', ')}]`);
  }
  for (const r of rejected.filter((x) => x.flaggedOnLine && !x.flaggedOnKernelLine)) {
    console.log(`  fix line only  ${r.name}: kernel line ${r.entry.line ?? '-'} (${r.entry.message.slice(0, 80)}); errors at [${r.errors.map(describe).join(', ')}]`);
  }
  for (const r of falseErrors) console.log(`  false error  ${r.name}: [${r.errors.map(describe).join(', ')}]`);
  const share = caught.length / rejected.length;
  const onKernelLine = rejected.filter((r) => r.flaggedOnKernelLine).length;
  console.log(`corpus accuracy (headline): ${onKernelLine}/${rejected.length} rejected probes flagged on the line the kernel or clang names (${((onKernelLine / rejected.length) * 100).toFixed(1)}%)`);
  console.log(
    `corpus accuracy, counting a hand-written fix line as a hit too: ${caught.length}/${rejected.length} rejected probes flagged on the kernel's or the fix line (${(share * 100).toFixed(1)}%); ` +
      `${falseErrors.length}/${accepted.length} accepted probes with an error`,
  );
  assert.ok(rejected.length >= 20 && accepted.length >= 20, 'the corpus has at least 20 rejected and 20 accepted probes');
  assert.ok(onKernelLine / rejected.length >= 0.9, `only ${((onKernelLine / rejected.length) * 100).toFixed(1)}% of rejected probes flagged on the kernel's line`);
  assert.ok(share >= 0.95, `only ${(share * 100).toFixed(1)}% of rejected probes flagged on the kernel's or the fix line`);
  assert.deepEqual(falseErrors.map((r) => r.name), [], 'errors on kernel-accepted probes');
});

const REALWORLD = resolve(__dirname, '..', '..', '..', 'shared', 'realworld');
const realworldSkip = existsSync(REALWORLD) ? false : process.env.CI === 'true' ? assert.fail(`needs ${REALWORLD}`) : `needs ${REALWORLD}`;

test('no error or warning on any real-world probe (../shared/realworld: libbpf-tools, libbpf-bootstrap), all of which the kernel accepts', { skip: realworldSkip }, async () => {
  const flagged: string[] = [];
  let probes = 0;
  for (const dir of ['libbpf-tools', 'libbpf-bootstrap']) {
    for (const name of readdirSync(join(REALWORLD, dir)).filter((n) => n.endsWith('.bpf.c'))) {
      const path = join(REALWORLD, dir, name);
      const file = await parseProbeFile(readFileSync(path, 'utf8'), { uri: `file://${path}`, targetKernel: runningKernelVersion() });
      const findings = checkProbeFile(file, allRules).filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning);
      flagged.push(...findings.map((d) => `${dir}/${name}:${d.range.start.line + 1} ${String(d.code)}`));
      probes++;
    }
  }
  assert.ok(probes >= 30, `only ${probes} real-world probes found`);
  assert.deepEqual(flagged, []);
});

test('ebpf-studio check --format json over the corpus reports exactly what the engine reports', async () => {
  const cli = join(__dirname, '../../dist/cli.js');
  assert.ok(existsSync(cli), `${cli} does not exist: run npm run build first`);
  const results = await checkCorpus();
  const files = results.map((r) => join(corpusDir, r.name));
  const run = spawnSync(process.execPath, [cli, 'check', '--format', 'json', ...files], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(run.status, 1, `exit status 1 (errors found) expected; stderr: ${run.stderr}`);
  const report = JSON.parse(run.stdout) as { file: string; diagnostics: Diagnostic[] }[];
  assert.equal(report.length, results.length);
  const summary = (list: Diagnostic[]) => list.map((d) => `${d.range.start.line + 1}:${d.range.start.character} ${d.severity} ${String(d.code)}`).sort();
  for (const result of results) {
    const entry = report.find((r) => r.file.endsWith(`/${result.name}`) || r.file === result.name);
    assert.ok(entry, `${result.name} missing from the CLI report`);
    assert.deepEqual(summary(entry.diagnostics), summary(result.diagnostics), `${result.name}: CLI and engine disagree`);
  }
});
