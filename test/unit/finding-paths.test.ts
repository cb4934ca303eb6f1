// "Why" in related information: a finding that has a path (variable-unset-on-path) carries each step
// (declaration, the guarded assignment, the read) as related information on the file. Talks to the rule engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allRules } from '../../server/src/rules/index';
import { checkProbeFile } from '../../server/src/rules/rule-engine';
import { parseProbeFile } from '../../server/src/analysis/probe-document';

const KERNEL = { major: 6, minor: 18, patch: 0 };
const probe = readFileSync(join(__dirname, '../fixtures/corpus/openat-ret-unset-on-filter.bpf.c'), 'utf8');

test('a read of a variable unset on one path explains the path: declared, set only under a condition, read', async () => {
  const uri = 'file:///work/openat.bpf.c';
  const file = await parseProbeFile(probe, { uri, targetKernel: KERNEL });
  const [finding] = checkProbeFile(file, allRules).filter((d) => d.code === 'variable-unset-on-path');
  assert.ok(finding, 'the unset read is found');
  assert.equal(finding.range.start.line + 1, 18);
  const steps = (finding.relatedInformation ?? []).map((r) => `${r.location.uri === uri ? '' : r.location.uri}${r.location.range.start.line + 1}: ${r.message}`);
  assert.deepEqual(steps, [
    "11: 'ret' is declared here without a value",
    "15: set here only when 'pid == targ_pid'",
    '18: read here on a path where none of those assignments ran',
  ]);
});
