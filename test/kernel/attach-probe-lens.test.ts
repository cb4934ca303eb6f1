// The "▶ Attach probe" lens's command path on this kernel: the lens above either program of a raw_tp sys_enter/sys_exit
// latency probe (a template folder filtered to getppid) attaches both, and its histogram counts a getppid workload;
// "Attach only sys_enter" attaches one program and records nothing. Lens plan → load request → TargetSessions → local agent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { TargetSessions } from '../../engine/targets/target-sessions';
import type { LoadResult } from '../../protocol/agent-rpc';
import { ATTACH_PROBE_TITLE, planAttachLenses, type AttachLensPlan } from '../../client/src/targets/attach-lenses';
import { probeLoadRequest } from '../../client/src/targets/probe-load-request';
import { readProbePrograms } from '../../server/src/analysis/probe-programs';
import { buildTestAgent, PROJECT_ROOT, type TestAgentBundle } from './build-test-agent';
import { gatedWorkload, type GatedWorkload } from './gated-workload';
import { loadedProgramIds, programsHeldBy, programsLeftSince } from './loaded-programs';

const TEMPLATE = join(PROJECT_ROOT, 'bpf-templates', 'syscall-latency');
const SOURCE_NAME = 'syscall-latency.bpf.c';
const WORKLOAD_CALLS = 5000;
/** struct hist in the probe: __u32 slots[27], then the comm. */
const HIST_SLOTS = 27;

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'root (loading BPF programs)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'kernel BTF at /sys/kernel/btf/vmlinux (vmlinux.h for the probe)';
  try {
    execFileSync('sh', ['-c', 'command -v bpftool'], { stdio: 'ignore' });
  } catch {
    return 'bpftool (the independent check that nothing stays loaded)';
  }
  return undefined;
}
const missing = missingPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`attach lens kernel test needs ${missing}`);

/** A node process that calls getppid() `count` times once told to; resolves its pid first, then runs on go(). */
function getppidWorkload(count: number): GatedWorkload {
  const script = `process.stdin.once('data', () => {
  let sum = 0;
  for (let i = 0; i < ${count}; i++) sum += process.ppid;
  process.stdout.write('done ' + (sum > 0) + '\\n');
  process.stdin.once('end', () => process.exit(0));
});`;
  return gatedWorkload(process.execPath, ['-e', script], 'done true');
}

describe('"▶ Attach probe" on an enter/exit probe, on this kernel', { skip: missing ? `needs ${missing}` : false }, () => {
  let bundle: TestAgentBundle;
  let sessions: TargetSessions;
  let dir = '';
  let source = '';
  /** Every program id the probe's sessions loaded, for the final check. */
  const probeIds: number[] = [];
  /** The agents the sessions started, and the programs loaded on the machine before: what this test leaves is checked. */
  const agentPids: number[] = [];
  let programsBefore = new Set<number>();

  /** The template folder's defaults: time getppid, only in the workload's process. */
  function setTemplateDefaults(pid: number): void {
    const manifest = JSON.parse(readFileSync(join(TEMPLATE, 'template.json'), 'utf8')) as { parameters: { name: string; default: unknown }[] };
    for (const p of manifest.parameters) {
      if (p.name === 'syscall') p.default = 'getppid';
      if (p.name === 'pid') p.default = pid;
    }
    writeFileSync(join(dir, 'template.json'), JSON.stringify(manifest, null, 2));
  }

  /** Presses a lens: the attachProbe command's path with the lens's arguments (the file, and its program list if any). */
  async function pressLens(plan: AttachLensPlan): Promise<LoadResult> {
    const outcomes = await sessions.attach(['local'], (client, name) => probeLoadRequest(source, client, name, plan.programs ? { programs: plan.programs } : {}));
    const outcome = outcomes.get('local');
    assert.ok(outcome?.ok, outcome && !outcome.ok ? outcome.error : 'no outcome for local');
    probeIds.push(...outcome.result.programs.map((p) => p.id));
    return outcome.result;
  }

  /** Sum of every histogram slot of the session's `hists` map, read through the agent. */
  async function histogramTotal(session: string): Promise<number> {
    const client = await sessions.client('local');
    const read = await client.request('readMap', { session, map: 'hists' });
    const values = Buffer.from(read.values, 'base64');
    let total = 0;
    for (let entry = 0; entry < read.count; entry++) {
      for (let slot = 0; slot < HIST_SLOTS; slot++) total += values.readUInt32LE(entry * read.map.valueSize + slot * 4);
    }
    return total;
  }

  before(async () => {
    bundle = await buildTestAgent();
    programsBefore = loadedProgramIds();
    sessions = new TargetSessions(() => connectLocalAgent({ agentPath: bundle.path, onSpawn: (pid) => agentPids.push(pid) }));
    dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-attach-lens-'));
    for (const name of readdirSync(TEMPLATE)) copyFileSync(join(TEMPLATE, name), join(dir, name));
    source = join(dir, SOURCE_NAME);
  });

  after(async () => {
    await sessions?.disconnectAll();
    bundle?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the lens above sys_exit attaches sys_enter and sys_exit as one session, and the histogram counts the workload', async (t) => {
    const workload = getppidWorkload(WORKLOAD_CALLS);
    setTemplateDefaults(workload.pid);
    const plans = planAttachLenses(await readProbePrograms(source), basename(source), 'local');
    const lines = readFileSync(source, 'utf8').split('\n');
    const lens = plans.find((p) => p.title === ATTACH_PROBE_TITLE && lines[p.line].includes('raw_tp/sys_exit'));
    assert.ok(lens, `no "${ATTACH_PROBE_TITLE}" lens above sys_exit: ${JSON.stringify(plans)}`);

    const result = await pressLens(lens);
    try {
      assert.deepEqual(result.programs.map((p) => [p.name, p.attached, p.attachError]), [['sys_enter', true, undefined], ['sys_exit', true, undefined]]);
      assert.deepEqual(sessions.state('local')?.sessions.map((s) => s.session), [result.session], 'one session for the whole probe');
      const held = programsHeldBy(agentPids);
      for (const p of result.programs) assert.ok(held.has(p.id), `the agent does not hold ${p.name} (id ${p.id})`);

      const before = await histogramTotal(result.session);
      await workload.go();
      const after = await histogramTotal(result.session);
      t.diagnostic(`histogram total ${before} → ${after} for ${WORKLOAD_CALLS} getppid() calls`);
      assert.ok(after - before >= WORKLOAD_CALLS, `the histogram grew by ${after - before} for ${WORKLOAD_CALLS} getppid() calls`);
    } finally {
      await sessions.detach('local', result.session);
    }
    assert.deepEqual(programsLeftSince(programsBefore, agentPids), [], 'detach unloads both programs');
  });

  test('"Attach only sys_enter" attaches that program alone, and alone it records no latency', async () => {
    const workload = getppidWorkload(WORKLOAD_CALLS);
    setTemplateDefaults(workload.pid);
    const plans = planAttachLenses(await readProbePrograms(source), basename(source), 'local');
    const lens = plans.find((p) => p.title === 'Attach only sys_enter');
    assert.deepEqual(lens?.programs, ['sys_enter']);

    const result = await pressLens(lens as AttachLensPlan);
    try {
      assert.deepEqual(result.programs.map((p) => [p.name, p.attached]), [['sys_enter', true]]);
      await workload.go();
      assert.equal(await histogramTotal(result.session), 0, 'sys_enter alone stores start times but never a latency');
    } finally {
      await sessions.detach('local', result.session);
    }
  });

  test('nothing of the probe stays loaded once the agent is gone', async () => {
    await sessions.disconnectAll();
    assert.equal(probeIds.length, 3, 'both sessions loaded their programs');
    assert.deepEqual(programsLeftSince(programsBefore, agentPids), [], 'nothing stays loaded after the agent exits');
  });
});
