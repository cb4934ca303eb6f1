// Runs every registered static rule (the language server's rule engine) over each bundled probe template and
// expects no finding and no rule failure: templates are what new users copy, so they must be clean.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { parseKernelVersion } from '../../server/src/kernel/kernel-version';
import { allRules } from '../../server/src/rules/index';
import { checkProbeFile } from '../../server/src/rules/rule-engine';
import { listTemplates } from '../../engine/templates/template-catalog';

const TARGET_KERNEL = parseKernelVersion('6.18');

for (const template of listTemplates().templates) {
  test(`${template.name}: no static rule finding`, async () => {
    assert.ok(TARGET_KERNEL);
    const file = await parseProbeFile(readFileSync(template.sourcePath, 'utf8'), { targetKernel: TARGET_KERNEL });
    assert.ok(file.programs.length > 0, 'the parser found the template’s programs');
    const failures: string[] = [];
    const diagnostics = checkProbeFile(file, allRules, (failure) => failures.push(`${failure.ruleId}: ${String(failure.error)}`));
    assert.deepEqual(failures, []);
    assert.deepEqual(
      diagnostics.map((d) => `${d.range.start.line + 1}: [${String(d.code)}] ${typeof d.message === 'string' ? d.message : d.message.value}`),
      [],
    );
  });
}
