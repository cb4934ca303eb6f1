// What a compile for this machine needs to know about its kernel (arch, release, BTF presence and sha256), read here
// without waiting for the agent: the same facts the local agent's hello reports. Talks to /sys/kernel/btf/vmlinux.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { HelloResult } from '../../protocol/agent-rpc';

export type CompileFacts = Pick<HelloResult, 'arch' | 'kernelRelease' | 'btfPresent' | 'btfSha256'>;

let facts: Promise<CompileFacts> | undefined;

/** This machine's compile facts, read once per process (the kernel's BTF cannot change while it runs). */
export function localCompileFacts(): Promise<CompileFacts> {
  facts ??= readFile('/sys/kernel/btf/vmlinux').then(
    (btf) => ({ arch: os.machine(), kernelRelease: os.release(), btfPresent: true, btfSha256: createHash('sha256').update(btf).digest('hex') }),
    () => ({ arch: os.machine(), kernelRelease: os.release(), btfPresent: false }),
  );
  return facts;
}
