// Waits for the work a verify leaves running in the background (vmlinux.h generation, its precompile: detached processes
// holding lock files under the cache folder), so a test removes its cache only once none is left running. Reads the folder only.
import { readdirSync } from 'node:fs';

/**
 * Waits (synchronously: it also runs at exit) until no vmlinux.h generation or precompile a verify started in the background
 * still holds its lock under `root`, so none is left running once its cache is removed (a hang guard of 2 minutes).
 */
export function waitForBackgroundWork(root: string): void {
  const deadline = Date.now() + 120_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const busy = () => {
    try {
      return readdirSync(root, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('.pch.building') || f.endsWith('generating.lock'));
    } catch {
      return false;
    }
  };
  while (busy() && Date.now() < deadline) Atomics.wait(pause, 0, 0, 100);
}
