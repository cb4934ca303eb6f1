// Every accuracy-corpus probe through the product's tier 2 (clang, then the agent's load through the kernel verifier),
// and the object it compiled loaded independently with bpftool prog loadall, in the same run: verdicts and lines must
// agree (a compile error is checked against clang run by hand). A verdict in expected.json is compared only on the
// kernel release it was recorded on. Talks to clang-19, bpftool, the agent and the kernel verifier (root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { join } from 'node:path';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { verifyProbe } from '../../engine/verify/verify-probe';
import { readProbePrograms } from '../../server/src/analysis/probe-programs';
import { bpftoolVerdict, corpusDir, verifyProbeAsync, vmlinuxIncludeDir, type ProbeVerdict } from '../../scripts/corpus-verdicts';
import { corpusFiles, readExpected } from '../../scripts/record-corpus';
import { verdictAndLine } from './verify/tier-two-verdict';
import { agentBundle } from './verify/agent-under-test';
import { skipUnlessReady } from './kernel-prerequisites';

const skip = skipUnlessReady('corpus-verdicts');
const show = (e: { verdict: string; line?: number }) => `${e.verdict}:${e.line ?? '-'}`;

// The hang guard is generous: ~120 compiles with vmlinux.h take many minutes on two busy cores.
test('every corpus probe: tier-2 verdict and line equal bpftool prog loadall on this kernel, and the record on its release', { skip, timeout: 1_800_000 }, async () => {
  const names = corpusFiles();
  const live: Record<string, ProbeVerdict> = {};
  const disagreements: string[] = [];
  const agent = await connectLocalAgent({ agentPath: agentBundle() });
  // three probes at a time: clang runs in parallel while the agent verifies one object after another
  const pending = [...names];
  const worker = async () => {
    for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
      const result = await verifyProbe({ sourcePath: join(corpusDir, name), programs: await readProbePrograms(join(corpusDir, name)), agent });
      const ours = verdictAndLine(result);
      const kernel = result.object ? await bpftoolVerdict(result.object, name) : await verifyProbeAsync(join(corpusDir, name), vmlinuxIncludeDir());
      live[name] = kernel;
      if (ours.verdict !== kernel.verdict || ours.line !== kernel.line) disagreements.push(`${name}: bpftool ${show(kernel)} (${kernel.message}), tier 2 ${show(ours)}`);
    }
  };
  try {
    await Promise.all([worker(), worker(), worker()]);
  } finally {
    await agent.close();
  }
  assert.deepEqual(disagreements, [], `${names.length - disagreements.length}/${names.length} agree with bpftool on ${release()}`);

  const rejected = Object.values(live).filter((e) => e.verdict !== 'accepted').length;
  assert.ok(rejected >= 20 && names.length - rejected >= 20, 'the corpus keeps at least 20 rejected and 20 accepted probes on this kernel');

  const recorded = readExpected();
  assert.deepEqual(Object.keys(recorded).sort(), names, 'expected.json lists every corpus file');
  const describe = (n: string) => `${n}: recorded ${show(recorded[n])} on ${recorded[n].kernelRelease}, kernel now ${show(live[n])} (${live[n].message})`;
  const sameBuild = names.filter((n) => recorded[n].kernelRelease === release());
  const changed = sameBuild.filter((n) => show(recorded[n]) !== show(live[n]));
  assert.deepEqual(changed.map(describe), [], `verdicts recorded on ${release()} changed: run \`npm run record:corpus\` if the probes changed on purpose`);
  const otherBuild = names.filter((n) => recorded[n].kernelRelease !== release());
  const differ = otherBuild.filter((n) => show(recorded[n]) !== show(live[n]));
  console.log(`${sameBuild.length} verdicts were recorded on this kernel (${release()}) and compared with it; ${otherBuild.length} come from other builds, checked against bpftool only, of which ${differ.length} differ from the record:`);
  for (const n of differ) console.log(`  ${describe(n)}`);
});
