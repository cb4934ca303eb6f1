// Load failures on one agent: a rejected program next to an accepted one (the accepted one runs), a map the kernel refuses, an attach that
// fails for one program of several; the agent must answer each clearly, keep serving, and leave nothing loaded (bpftool).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { AgentClient } from '../../engine/targets/agent-client';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { compileProbe } from '../../engine/toolchain/compile-probe';
import { findClang } from '../../engine/toolchain/find-clang';
import { buildTestAgent, PROJECT_ROOT, type TestAgentBundle } from './build-test-agent';
import { loadedProgramIds, loadedPrograms, programsLeftSince } from './loaded-programs';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/load-failures');

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'root';
  if (spawnSync('sh', ['-c', 'command -v bpftool']).status !== 0) return 'bpftool';
  return undefined;
}
const missing = missingPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`agent-load-failures kernel tests need ${missing}`);

describe('agent load failures', { skip: missing ? `needs ${missing}` : false }, () => {
  let bundle: TestAgentBundle;
  let client: AgentClient;
  const objects: Record<string, string> = {};
  let stderr = '';
  let agentPid = -1;
  let programsBefore = new Set<number>();
  /** Names of the programs loaded since the agent started that it holds or nobody holds (others' runs left out). */
  const programsOfThisAgent = () => {
    const ours = new Set(programsLeftSince(programsBefore, agentPid));
    return loadedPrograms().filter((p) => ours.has(p.id)).map((p) => p.name);
  };

  const compile = async (name: string, folder = FIXTURES) => {
    const compiled = await compileProbe({ sourcePath: join(folder, `${name}.bpf.c`), clang: await findClang(), machine: process.arch === 'arm64' ? 'aarch64' : 'x86_64' });
    assert.ok(compiled.object, compiled.stderr);
    objects[name] = compiled.object.toString('base64');
  };

  /** The agent still answers, and the kernel holds none of the fixture programs. */
  const assertAliveAndClean = async () => {
    assert.equal(client.isClosed, false, `the agent exited: ${stderr}`);
    const hello = await client.request('hello', {});
    assert.equal(typeof hello.kernelRelease, 'string');
    assert.deepEqual(programsOfThisAgent(), [], 'bpftool prog show lists no program the agent holds or left');
  };

  before(async () => {
    bundle = await buildTestAgent();
    for (const name of ['mixed-verdicts', 'map-create-fails', 'attach-one-fails']) await compile(name);
    await compile('optional-program', join(PROJECT_ROOT, 'test/fixtures/verifier-probes'));
    programsBefore = loadedProgramIds();
    client = await connectLocalAgent({ agentPath: bundle.path, onStderr: (line) => (stderr += `${line}\n`), onSpawn: (pid) => (agentPid = pid) });
  });

  after(async () => {
    await client?.close();
    bundle?.remove();
  });

  test('an object with one accepted and one rejected program loads the accepted one; the rejected one says why on its line', async () => {
    const loaded = await client.request('load', { object: objects['mixed-verdicts'], objectName: 'mixed-verdicts.bpf.o' });
    try {
      const accepted = loaded.programs.find((p) => p.name === 'lf_accepted');
      const rejected = loaded.programs.find((p) => p.name === 'lf_rejected');
      assert.equal(accepted?.attached, true, JSON.stringify(accepted));
      assert.equal(rejected?.attached, false);
      assert.equal(rejected?.section, 'tracepoint/syscalls/sys_enter_getpid');
      assert.match(rejected?.notLoaded ?? '', /^rejected by the kernel verifier at mixed-verdicts\.bpf\.c:31 \(return \*\(v \+ k\);\)/, 'names the source line the verifier stopped at');
      assert.match(rejected?.notLoaded ?? '', /unbounded memory access|min value is outside of the allowed memory range|value is outside/);
      assert.deepEqual(programsOfThisAgent(), ['lf_accepted'], 'the kernel holds the accepted program only');
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    await assertAliveAndClean();
    // The same load twice in a row: nothing of the first attempt is reused or freed twice.
    const again = await client.request('load', { object: objects['mixed-verdicts'], noAttach: true });
    await client.request('detach', { session: again.session });
    await assertAliveAndClean();
  });

  test('asking for the accepted program only loads and attaches it', async () => {
    const loaded = await client.request('load', { object: objects['mixed-verdicts'], programs: ['lf_accepted'] });
    try {
      assert.deepEqual(loaded.programs.map((p) => [p.name, p.attached]), [['lf_accepted', true]]);
      assert.deepEqual(programsOfThisAgent(), ['lf_accepted']);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    await assertAliveAndClean();
  });

  test('asking for the rejected program only fails the same way', async () => {
    await assert.rejects(client.request('load', { object: objects['mixed-verdicts'], programs: ['lf_rejected'] }), /rejected program lf_rejected/);
    await assertAliveAndClean();
  });

  test('a broken SEC("?...") program is left out unless asked for by name, as libbpf does', async () => {
    const loaded = await client.request('load', { object: objects['optional-program'], noAttach: true });
    try {
      assert.deepEqual(loaded.programs.map((p) => p.name), ['always_loaded']);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    await assert.rejects(client.request('load', { object: objects['optional-program'], programs: ['optional_unchecked'] }), /rejected program optional_unchecked/);
    await assertAliveAndClean();
  });

  test('bad input to load gets a clear error and the agent stays up', async () => {
    await assert.rejects(client.request('load', { object: Buffer.from('not an ELF object').toString('base64') }), (err: Error & { code?: string }) => err.code === 'ENOTBPF');
    await assert.rejects(client.request('load', { object: objects['mixed-verdicts'], programs: 'lf_accepted' as never }), (err: Error & { code?: string }) => err.code === 'EINVAL');
    await assert.rejects(client.request('load', { object: objects['mixed-verdicts'], programs: ['lf_missing'] }), /has no program lf_missing; it has lf_accepted, lf_rejected/);
    await assertAliveAndClean();
  });

  test('an object whose map the kernel refuses to create fails naming the map', async () => {
    await assert.rejects(client.request('load', { object: objects['map-create-fails'] }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ELOAD');
      assert.match(err.message, /map lf_wide_key_array/);
      assert.match(err.message, /EINVAL|Invalid argument/);
      return true;
    });
    await assertAliveAndClean();
  });

  test('an attach failure on one program of several keeps the others attached and detach frees all', async () => {
    const loaded = await client.request('load', { object: objects['attach-one-fails'] });
    try {
      const byName = Object.fromEntries(loaded.programs.map((p) => [p.name, p]));
      assert.equal(byName.lf_attachable.attached, true, byName.lf_attachable.attachError);
      assert.equal(byName.lf_unattachable.attached, false);
      assert.match(byName.lf_unattachable.attachError ?? '', /tracepoint\/ebpf_studio_none\/no_such_event/);
      assert.deepEqual(programsOfThisAgent().sort(), ['lf_attachable', 'lf_unattachable']);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    await assertAliveAndClean();
  });

  test('after all of that, a load on the same agent works and its program runs', async () => {
    const loaded = await client.request('load', { object: objects['attach-one-fails'], programs: ['lf_attachable'] });
    try {
      assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
      // The tracepoint program runs inside the syscall, so the count is there once the child has exited.
      execFileSync(process.execPath, ['-e', 'for (let i = 0; i < 10; i++) process.ppid;']);
      const r = await client.request('readMap', { session: loaded.session, map: 'lf_counts' });
      const count = Number(Buffer.from(r.values, 'base64').readBigUInt64LE(0));
      assert.ok(count >= 10, `lf_attachable counted ${count} getppid calls, expected at least 10`);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    await assertAliveAndClean();
  });
});
