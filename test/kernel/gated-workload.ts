// Test support: a workload process whose pid is known before it runs (so a probe can filter on it), that does its work
// when told to and exits when its stdin ends. Talks to the child process.
import { spawn } from 'node:child_process';

export interface GatedWorkload {
  pid: number;
  /** Starts the work, waits until the child says it is done, then ends it and waits for its exit. */
  go(): Promise<void>;
}

/** Runs `command`, which must wait for a line on stdin, then work, print `doneMarker`, and exit at the end of stdin. */
export function gatedWorkload(command: string, args: string[], doneMarker: string): GatedWorkload {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes(doneMarker) && resolve());
    child.once('exit', (code) => reject(new Error(`the workload ${command} exited before it was done (${code})`)));
  });
  done.catch(() => undefined); // reported by go(); a workload never started must not fail the run on its own
  return {
    pid: child.pid as number,
    async go() {
      child.stdin.write('\n');
      await done;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      await exited;
    },
  };
}
