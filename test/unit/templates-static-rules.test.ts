// Runs every registered static rule (the language server's rule engine) over each bundled probe template: no finding
// on 6.18 nor on the template's stated minKernel, and a kernel-version finding on the kernel just before it.
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

/** The static rules' findings for a template's source checked against `kernel`. */
async function findingsOn(sourcePath: string, kernel: string): Promise<string[]> {
  const version = parseKernelVersion(kernel);
  assert.ok(version, kernel);
  const file = await parseProbeFile(readFileSync(sourcePath, 'utf8'), { targetKernel: version });
  return checkProbeFile(file, allRules, () => undefined).map((d) => String(d.code));
}

for (const template of listTemplates().templates) {
  test(`${template.name}: minKernel ${template.manifest.minKernel} is the oldest kernel the static rules accept it on`, async () => {
    assert.deepEqual(await findingsOn(template.sourcePath, template.manifest.minKernel), [], `no finding on ${template.manifest.minKernel}`);
    const [major, minor] = template.manifest.minKernel.split('.').map(Number);
    const before = minor > 0 ? `${major}.${minor - 1}` : `${major - 1}.20`;
    const older = await findingsOn(template.sourcePath, before);
    assert.ok(older.length > 0 && older.every((code) => code.endsWith('-newer-than-kernel')), `${before}: ${older.join(', ') || 'no finding'}: minKernel says too old a kernel`);
  });
}
