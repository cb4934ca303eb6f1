// The leak check itself: a program this test pins with bpftool, or one its agent holds, is reported as left loaded;
// the same program held by a process the test does not name as its own is not. Talks to bpftool, clang-19, the agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BPFFS_DIR, isMounted } from '../../engine/targets/kernel-filesystems';
import type { LoadResult } from '../../protocol/agent-rpc';
import { skipUnless, skipUnlessReady } from './kernel-prerequisites';
import { loadedProgramIds, programsHeldBy, programsLeftSince, processTree } from './loaded-programs';
import { compileBpf } from './pinned-btf-map';
import { startRawAgent } from './raw-agent';
import { agentBundle } from './verify/agent-under-test';
import { waitFor } from './wait-for';

const skip = skipUnlessReady('leak-check tests') || skipUnless(isMounted('bpf', BPFFS_DIR) ? undefined : `bpffs at ${BPFFS_DIR}`, 'leak-check tests');
const SOURCE = join(__dirname, '../fixtures/leak-check/left-loaded.bpf.c');

test('a program pinned with bpftool and held by no process is left loaded until it is unpinned', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-leak-check-'));
  const pin = `${BPFFS_DIR}/ebpf-studio-test-${process.pid}-left-loaded`;
  const object = join(dir, 'left-loaded.bpf.o');
  try {
    writeFileSync(object, compileBpf(SOURCE));
    const before = loadedProgramIds();
    execFileSync('bpftool', ['prog', 'load', object, pin]);
    try {
      const { id } = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'pinned', pin], { encoding: 'utf8' })) as { id: number };
      assert.deepEqual(programsLeftSince(before), [id], 'the pinned program is reported as left loaded');
    } finally {
      rmSync(pin);
    }
    await waitFor('the unpinned program to be gone', () => programsLeftSince(before).length === 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a program the agent holds is the agent's: left loaded when the agent is named as ours, another's when not", { skip }, async () => {
  const before = loadedProgramIds();
  const agent = startRawAgent(agentBundle());
  try {
    const reply = await agent.request('load', { object: compileBpf(SOURCE).toString('base64'), objectName: 'left-loaded.bpf.o', noAttach: true });
    assert.equal(reply.error, undefined, reply.error?.message);
    const [{ id, name }] = (reply.result as LoadResult).programs;
    assert.equal(name, 'left_loaded');
    assert.deepEqual([...programsHeldBy([agent.pid])], [id], 'the agent holds the program it loaded');
    assert.deepEqual(programsLeftSince(before), [], 'held by a process not named as ours: another run’s, not counted');
    assert.deepEqual(programsLeftSince(before, agent.pid), [id], 'held by our agent: counted');
    assert.deepEqual(programsLeftSince(before, processTree(process.pid)), [id], 'the agent is in this test’s process tree');
  } finally {
    assert.deepEqual(await agent.close(), { code: 0, signal: null });
  }
  await waitFor('the agent’s program to be gone once it exited', () => programsLeftSince(before, agent.pid).length === 0);
});
