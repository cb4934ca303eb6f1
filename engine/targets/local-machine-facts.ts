// What a compile for this machine needs to know about its kernel (arch, release, BTF presence and sha256), read here
// without waiting for the agent: the same facts the local agent's hello reports. Talks to /sys/kernel/btf/vmlinux.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { HelloResult } from '../../protocol/agent-rpc';

export type CompileFacts = Pick<HelloResult, 'arch' | 'kernelRelease' | 'btfPresent' | 'btfSha256'>;

let facts: Promise<CompileFacts> | undefined;

/**
 * This machine's compile facts, read once per process (the kernel's BTF cannot change while it runs). Read at once, not
 * through the thread pool: ~20 ms here, where the compile waits for it behind whatever else the event loop holds.
 */
export function localCompileFacts(): Promise<CompileFacts> {
  facts ??= Promise.resolve(readFacts());
  return facts;
}

function readFacts(): CompileFacts {
  const known = { arch: os.machine(), kernelRelease: os.release() };
  let btf: Buffer;
  try {
    btf = readFileSync('/sys/kernel/btf/vmlinux');
  } catch {
    return { ...known, btfPresent: false };
  }
  return { ...known, btfPresent: true, btfSha256: createHash('sha256').update(btf).digest('hex') };
}
