// The helper facts the static rules use, checked against this kernel: every helper's GPL-only flag
// and (on the measured kernel line) which program types may call it. Talks to the agent and clang-19.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { kernelFacts } from '../../server/src/kernel/kernel-facts';
import { parseKernelVersion } from '../../server/src/kernel/kernel-version';
import { measureHelperFacts, type MeasuredHelperFacts } from '../../scripts/helper-facts-probe';
import { agentBundle, skipUnlessReady } from './verify/agent-under-test';

const skip = skipUnlessReady();
const committed = JSON.parse(readFileSync(join(__dirname, '../../data/measured/helper-facts.json'), 'utf8')) as MeasuredHelperFacts;

test('GPL-only flags and per-type availability agree with this kernel', { skip, timeout: 300_000 }, async () => {
  const agent = await connectLocalAgent({ agentPath: agentBundle() });
  let measured: MeasuredHelperFacts;
  try {
    measured = await measureHelperFacts(agent, kernelFacts.helpers());
  } finally {
    await agent.close();
  }

  // a helper GPL-only for some program types and not others (bpf_get_stackid) is kept GPL-only
  const mixed = new Set(measured.gplOnly.filter((name) => measured.notGplOnly.includes(name)));
  const wrongGpl = [
    ...measured.gplOnly.filter((name) => !kernelFacts.helper(name)?.gplOnly).map((name) => `${name}: kernel says GPL-only, data says not`),
    ...measured.notGplOnly.filter((name) => !mixed.has(name) && kernelFacts.helper(name)?.gplOnly).map((name) => `${name}: kernel lets a non-GPL program call it, data says GPL-only`),
  ];
  assert.deepEqual(wrongGpl, []);
  assert.ok(measured.gplOnly.length + measured.notGplOnly.length > 150, 'too few helpers were conclusive');

  // what a type may call differs between kernel releases; compare where the committed facts come from
  const running = parseKernelVersion(measured.kernelRelease);
  const recorded = parseKernelVersion(committed.kernelRelease);
  if (running && recorded && running.major === recorded.major && running.minor === recorded.minor) {
    assert.deepEqual(measured.availability, committed.availability, 'data/measured/helper-facts.json is stale: run scripts/measure-helper-facts.ts');
    const missing: string[] = [];
    for (const [type, { available }] of Object.entries(measured.availability)) {
      for (const name of available) {
        const helper = kernelFacts.helper(name);
        if (helper && !helper.programTypes.includes(type as never) && !/^bpf_(spin_|timer_)/.test(name)) missing.push(`${name} in ${type}`);
      }
    }
    assert.deepEqual(missing, [], 'helpers the kernel offers but the generated tables deny');
  }
});
