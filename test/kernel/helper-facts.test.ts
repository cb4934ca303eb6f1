// The helper facts the static rules use, checked against this kernel measured in the same run: every helper's
// GPL-only flag and which program types may call it; the agent's feature probe (what the editor prefers when it can
// reach the target) against the same measurement; the committed measurement only on its own kernel release.
// Talks to the agent and clang-19.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { kernelFacts } from '../../server/src/kernel/kernel-facts';
import { measureHelperFacts, type MeasuredHelperFacts } from '../../scripts/helper-facts-probe';
import type { FeatureProbeResult } from '../../protocol/agent-rpc';
import { agentBundle, skipUnlessReady } from './verify/agent-under-test';

const skip = skipUnlessReady();
const committed = JSON.parse(readFileSync(join(__dirname, '../../data/measured/helper-facts.json'), 'utf8')) as MeasuredHelperFacts;

test('GPL-only flags and per-type availability agree with this kernel', { skip, timeout: 300_000 }, async () => {
  const agent = await connectLocalAgent({ agentPath: agentBundle() });
  let measured: MeasuredHelperFacts;
  let probe: FeatureProbeResult;
  try {
    measured = await measureHelperFacts(agent, kernelFacts.helpers());
    probe = await agent.request('featureProbe', {}, { timeoutMs: 120_000 });
  } finally {
    await agent.close();
  }

  // the feature probe (raw one-call programs) and the measurement (clang-built objects loaded by libbpf) agree per type
  const probed = new Map(probe.programTypes.map((p) => [p.type, p]));
  const disagreements = Object.entries(measured.availability).flatMap(([type, { available }]) => {
    const entry = probed.get(type);
    // libbpf 1.1.2 names no netfilter type (so it is neither probed nor measured here)
    if (!entry?.helpersProbed) return available.length ? [`${type}: measured ${available.length} helpers, the feature probe did not probe it`] : [];
    const fromProbe = entry.helpers.map((name) => `bpf_${name}`);
    const onlyMeasured = available.filter((name) => !fromProbe.includes(name));
    const onlyProbed = fromProbe.filter((name) => !available.includes(name));
    return onlyMeasured.length + onlyProbed.length ? [`${type}: measurement only ${onlyMeasured.join(' ')}; probe only ${onlyProbed.join(' ')}`] : [];
  });
  assert.deepEqual(disagreements, [], 'the agent feature probe and the measurement disagree on this kernel');

  // a helper GPL-only for some program types and not others (bpf_get_stackid) is kept GPL-only
  const mixed = new Set(measured.gplOnly.filter((name) => measured.notGplOnly.includes(name)));
  const wrongGpl = [
    ...measured.gplOnly.filter((name) => !kernelFacts.helper(name)?.gplOnly).map((name) => `${name}: kernel says GPL-only, data says not`),
    ...measured.notGplOnly.filter((name) => !mixed.has(name) && kernelFacts.helper(name)?.gplOnly).map((name) => `${name}: kernel lets a non-GPL program call it, data says GPL-only`),
  ];
  assert.deepEqual(wrongGpl, []);
  assert.ok(measured.gplOnly.length + measured.notGplOnly.length > 150, 'too few helpers were conclusive');

  // what a type may call differs between kernel builds: the product's tables must not deny what this kernel offers
  const missing: string[] = [];
  for (const [type, { available }] of Object.entries(measured.availability)) {
    for (const name of available) {
      const helper = kernelFacts.helper(name);
      if (helper && !helper.programTypes.includes(type as never) && !/^bpf_(spin_|timer_)/.test(name)) missing.push(`${name} in ${type}`);
    }
  }
  assert.deepEqual(missing, [], 'helpers this kernel offers but the generated tables deny');

  // the committed measurement is compared only on the exact build it was measured on
  if (measured.kernelRelease === committed.kernelRelease) {
    assert.deepEqual(measured.availability, committed.availability, 'data/measured/helper-facts.json is stale: run scripts/measure-helper-facts.ts');
  } else {
    const differences = Object.entries(measured.availability).flatMap(([type, { available }]) => {
      const before = committed.availability[type]?.available ?? [];
      const gained = available.filter((n) => !before.includes(n));
      const lost = before.filter((n) => !available.includes(n));
      return gained.length + lost.length ? [`  ${type}: ${gained.map((n) => `+${n}`).concat(lost.map((n) => `-${n}`)).join(' ')}`] : [];
    });
    console.log(`data/measured/helper-facts.json comes from ${committed.kernelRelease}, this kernel is ${measured.kernelRelease}: checked against this kernel's measurement only; it differs from the committed one in ${differences.length} program types`);
    for (const line of differences) console.log(line);
  }
});
