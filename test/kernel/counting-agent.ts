// Test support for the agent input tests (bad input, fuzz): a raw agent (any bytes may be sent) with the syscall-counter
// probe loaded and attached, so a test can check after each bad line that the agent still answers and the program
// still counts; and what must be gone after it exits. Talks to clang-19, the agent and bpffs.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult, ReadMapResult } from '../../protocol/agent-rpc';
import { BPFFS_DIR, isMounted } from '../../engine/targets/kernel-filesystems';
import { skipUnless, skipUnlessReady } from './kernel-prerequisites';
import { loadedProgramIds, programsLeftSince } from './loaded-programs';
import { compileBpf } from './pinned-btf-map';
import { startRawAgent, type RawAgent } from './raw-agent';
import { agentBundle } from './verify/agent-under-test';

const PROBE = join(__dirname, '../fixtures/agent-input/syscall-counter.bpf.c');

/** Skip reason for these tests (root, BTF, clang-19, bpffs), or false; throws under CI. */
export function skipUnlessCountingAgentCan(tests: string): string | false {
  return skipUnlessReady(tests) || skipUnless(isMounted('bpf', BPFFS_DIR) ? undefined : `bpffs at ${BPFFS_DIR}`, tests);
}

/** One request line as a client would write it. */
export function requestLine(method: unknown, params: unknown, id: unknown = 1000): string {
  return `${JSON.stringify({ id, method, params })}\n`;
}

export interface CountingAgent {
  agent: RawAgent;
  session: LoadResult;
  /** The compiled probe, base64, for further load requests. */
  object: string;
  /** How many syscalls the attached program has counted so far. */
  syscallCount(): Promise<bigint>;
  /** Closes the agent's stdin and checks it exited cleanly, unloaded its programs and removed its pins. */
  closeAndCheckGone(): Promise<void>;
}

export async function startCountingAgent(): Promise<CountingAgent> {
  const object = compileBpf(PROBE).toString('base64');
  const programsBefore = loadedProgramIds();
  const agent = startRawAgent(agentBundle());
  const reply = await agent.request('load', { object, objectName: 'syscall-counter.bpf.o' });
  assert.equal(reply.error, undefined, reply.error?.message);
  const session = reply.result as LoadResult;
  assert.equal(session.programs[0].attached, true);
  return {
    agent,
    session,
    object,
    async syscallCount() {
      const counted = await agent.request('readMap', { session: session.session, map: 'syscalls' });
      assert.equal(counted.error, undefined, counted.error?.message);
      return Buffer.from((counted.result as ReadMapResult).values, 'base64').readBigUInt64LE(0);
    },
    async closeAndCheckGone() {
      assert.deepEqual(await agent.close(), { code: 0, signal: null }, 'the agent exits cleanly when its stdin closes');
      assert.deepEqual(programsLeftSince(programsBefore, agent.pid), [], 'nothing the agent loaded stays loaded');
      // only this agent's session folders: others on this shared machine may pin under ebpf-studio-… meanwhile
      const pins = existsSync(BPFFS_DIR) ? readdirSync(BPFFS_DIR).filter((name) => name.startsWith(`ebpf-studio-${agent.pid}-`)) : [];
      assert.deepEqual(pins, [], 'the agent removed its pins when it exited');
    },
  };
}
