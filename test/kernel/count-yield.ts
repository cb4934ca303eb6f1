// Test support for the count-yield probe (test/fixtures/targets/count-yield.bpf.c, counting one process's
// sched_yield calls in map `calls`): a workload that makes a known number of calls, and reading the count back.
// Talks to python3 and to an agent.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AgentClient } from '../../engine/targets/agent-client';

export const COUNT_YIELD_SOURCE = join(__dirname, '..', 'fixtures', 'targets', 'count-yield.bpf.c');

/** A python3 process that calls sched_yield() `count` times once told to (go), then exits; its pid is known at once. */
export function yieldWorkload(count: number): { pid: number; go(): Promise<void> } {
  const child = spawn('python3', ['-c', `import os,sys\nsys.stdin.readline()\nfor _ in range(${count}): os.sched_yield()\nsys.stdout.write("done\\n"); sys.stdout.flush()\nsys.stdin.readline()`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('done') && resolve()));
  return {
    pid: child.pid as number,
    async go() {
      child.stdin.write('\n');
      await done;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end('\n');
      await exited;
    },
  };
}

/** The count in the session's `calls` map (one u64 at key 0). */
export async function readCallCount(client: AgentClient, session: string): Promise<number> {
  const r = await client.request('readMap', { session, map: 'calls' });
  return Number(Buffer.from(r.values, 'base64').readBigUInt64LE(0));
}
