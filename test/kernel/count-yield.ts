// Test support for the count-yield probe (test/fixtures/targets/count-yield.bpf.c, counting one process's
// sched_yield calls in map `calls`): a workload that makes a known number of calls, and reading the count back.
// Talks to python3 and to an agent.
import { join } from 'node:path';
import type { AgentClient } from '../../engine/targets/agent-client';
import { gatedWorkload, type GatedWorkload } from './gated-workload';

export const COUNT_YIELD_SOURCE = join(__dirname, '..', 'fixtures', 'targets', 'count-yield.bpf.c');

/** A python3 process that calls sched_yield() `count` times once told to (go), then exits; its pid is known at once. */
export function yieldWorkload(count: number): GatedWorkload {
  return gatedWorkload('python3', ['-c', `import os,sys\nsys.stdin.readline()\nfor _ in range(${count}): os.sched_yield()\nsys.stdout.write("done\\n"); sys.stdout.flush()\nsys.stdin.readline()`], 'done');
}

/** The count in the session's `calls` map (one u64 at key 0). */
export async function readCallCount(client: AgentClient, session: string): Promise<number> {
  const r = await client.request('readMap', { session, map: 'calls' });
  return Number(Buffer.from(r.values, 'base64').readBigUInt64LE(0));
}
