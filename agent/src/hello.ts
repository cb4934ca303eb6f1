// The `hello` method: what the target is (kernel release, arch, BTF, libbpf version, uid, lockdown, kprobes),
// read from os and /sys so the client can pick vmlinux.h, -D__TARGET_ARCH_x and explain refusals.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import type { HelloResult } from '../../protocol/agent-rpc';
import { AGENT_VERSION } from '../../protocol/agent-rpc';
import { libbpf } from './ffi/libbpf';

export const VMLINUX_BTF_PATH = '/sys/kernel/btf/vmlinux';

export function hello(): HelloResult {
  const lockdown = readLockdown();
  const kprobes = detectKprobes();
  const btfSha256 = hashVmlinuxBtf();
  return {
    kernelRelease: os.release(),
    arch: os.machine(),
    btfPresent: btfSha256 !== undefined,
    ...(btfSha256 ? { btfSha256 } : {}),
    libbpfVersion: libbpfVersion(),
    agentVersion: AGENT_VERSION,
    uid: process.getuid?.() ?? -1,
    ...(lockdown ? { lockdown } : {}),
    ...(kprobes === undefined ? {} : { kprobes }),
  };
}

let btfHash: { sha256: string | undefined } | undefined;

/** The kernel's BTF cannot change while it runs, so it is hashed once per agent. */
function hashVmlinuxBtf(): string | undefined {
  if (!btfHash) {
    try {
      btfHash = { sha256: createHash('sha256').update(readFileSync(VMLINUX_BTF_PATH)).digest('hex') };
    } catch {
      btfHash = { sha256: undefined };
    }
  }
  return btfHash.sha256;
}

/**
 * libbpf's full version, e.g. "v1.1.2": libbpf_version_string() only says "v1.1", so the patch level comes from
 * the file the library was loaded from (/proc/self/maps → libbpf.so.1.1.2).
 */
function libbpfVersion(): string {
  const short = libbpf().versionString();
  try {
    const mapped = readFileSync('/proc/self/maps', 'utf8').split('\n').find((line) => /\/libbpf\.so[.\d]*$/.test(line));
    const full = mapped ? /libbpf\.so\.(\d+\.\d+\.\d+)$/.exec(realpathSync(mapped.slice(mapped.indexOf('/'))))?.[1] : undefined;
    return full ? `v${full}` : short;
  } catch {
    return short;
  }
}

/** The bracketed mode of /sys/kernel/security/lockdown, e.g. "none [integrity] confidentiality" → "integrity". */
function readLockdown(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync('/sys/kernel/security/lockdown', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function detectKprobes(): boolean | undefined {
  for (const tracefs of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) {
    if (existsSync(`${tracefs}/available_events`)) return existsSync(`${tracefs}/kprobe_events`);
  }
  return undefined;
}
