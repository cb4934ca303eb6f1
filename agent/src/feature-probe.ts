// The `featureProbe` method: program types this kernel loads and the helpers each may call, probed like `bpftool feature
// probe` (a helper call per program, verdict from the verifier log, newer wording too). Talks to the kernel; cached.
import os from 'node:os';
import type { FeatureProbeResult } from '../../protocol/agent-rpc';
import { HELPER_PROBE_SECTIONS } from '../../protocol/helper-probe-sections';
import { HELPER_NAMES } from './helper-names';
import { libbpf } from './ffi/libbpf';
import { libc } from './ffi/libc';

/** syscall programs must be sleepable (BPF_F_SLEEPABLE); libbpf sets it for SEC("syscall") but does not say so. */
const PROG_FLAGS: Record<string, number> = { syscall: 1 << 4 };
/** Types that need a BTF attach target, so a bare probe cannot tell anything. */
const NOT_PROBEABLE = new Set(['tracing', 'ext', 'lsm', 'struct_ops']);
/** The verifier's refusals of a helper itself (not of its arguments); "not allowed in probe" is the helper's allowed() check. */
const REFUSED_HELPER = /invalid func |unknown func |cannot use helper|helper call is not allowed/;

let cached: FeatureProbeResult | undefined;

function callInstructions(helperId: number): Buffer {
  const insns = Buffer.alloc(16);
  insns.writeUInt8(0x85, 0); // BPF_JMP | BPF_CALL
  insns.writeInt32LE(helperId, 4);
  insns.writeUInt8(0x95, 8); // BPF_JMP | BPF_EXIT
  return insns;
}

function helperAllowed(progType: number, expectedAttach: number, flags: number, helperId: number, log: Buffer): boolean {
  const b = libbpf();
  log.fill(0);
  const fd = b.loadRawProgram(progType, expectedAttach, flags, callInstructions(helperId), log);
  if (fd >= 0) {
    libc().close(fd);
    return true;
  }
  const text = log.toString('latin1', 0, Math.max(0, log.indexOf(0)));
  return text !== '' && !REFUSED_HELPER.test(text);
}

/** The expected_attach_type libbpf gives the section the type is probed with (some helpers depend on it, e.g. bpf_get_retval). */
function expectedAttachType(typeName: string): number {
  const section = HELPER_PROBE_SECTIONS[typeName];
  return section ? (libbpf().sectionProgramType(section)?.expectedAttachType ?? 0) : 0;
}

export function featureProbe(): FeatureProbeResult {
  if (cached) return cached;
  const started = Date.now();
  const b = libbpf();
  const log = Buffer.alloc(4096);
  const programTypes: FeatureProbeResult['programTypes'] = [];
  for (let type = 1; ; type++) {
    const name = b.progTypeName(type);
    if (!name) break;
    const supported = b.probeProgType(type) === 1;
    const helpers: string[] = [];
    const helpersProbed = supported && !NOT_PROBEABLE.has(name);
    if (helpersProbed) {
      const attach = expectedAttachType(name);
      for (let id = 1; id < HELPER_NAMES.length; id++) {
        if (helperAllowed(type, attach, PROG_FLAGS[name] ?? 0, id, log)) helpers.push(HELPER_NAMES[id]);
      }
    }
    programTypes.push({ type: name, supported, helpersProbed, helpers });
  }
  cached = { kernelRelease: os.release(), programTypes, elapsedMs: Date.now() - started };
  return cached;
}
