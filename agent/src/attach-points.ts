// The `attachPoints` method: names for section completion, read on the target: tracepoints (tracefs available_events),
// functions (available_filter_functions) and BTF FUNC names (fentry/fexit/tp_btf). Reads /sys only.
import { existsSync, readFileSync } from 'node:fs';
import type { AttachPointsParams, AttachPointsResult } from '../../protocol/agent-rpc';
import { AgentError } from './agent-error';
import { VMLINUX_BTF_PATH } from './hello';

const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const BTF_KIND_FUNC = 12;

function tracefsFile(name: string): string | undefined {
  return TRACEFS.map((d) => `${d}/${name}`).find((p) => existsSync(p));
}

function tracepoints(): string[] | string {
  const file = tracefsFile('available_events');
  if (!file) return 'tracefs is not mounted: mount it with `mount -t tracefs tracefs /sys/kernel/tracing`.';
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.replace(':', '/'));
}

function filterFunctions(): string[] | string {
  const file = tracefsFile('available_filter_functions');
  if (!file) return 'available_filter_functions is missing (tracefs not mounted, or the kernel has no ftrace).';
  try {
    return [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(/\s/)[0]))];
  } catch (err) {
    return `available_filter_functions is not readable here (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); use BTF function names instead.`;
  }
}

/** Walks the raw vmlinux BTF (header, type section, string section) and collects FUNC names. */
function btfFunctions(): string[] | string {
  if (!existsSync(VMLINUX_BTF_PATH)) return `This kernel has no BTF (${VMLINUX_BTF_PATH}); fentry/fexit/tp_btf need CONFIG_DEBUG_INFO_BTF.`;
  const raw = readFileSync(VMLINUX_BTF_PATH);
  const hdrLen = raw.readUInt32LE(4);
  const typeOff = hdrLen + raw.readUInt32LE(8);
  const typeEnd = typeOff + raw.readUInt32LE(12);
  const strOff = hdrLen + raw.readUInt32LE(16);
  const names: string[] = [];
  for (let at = typeOff; at < typeEnd; ) {
    const nameOff = raw.readUInt32LE(at);
    const info = raw.readUInt32LE(at + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === BTF_KIND_FUNC) names.push(raw.toString('latin1', strOff + nameOff, raw.indexOf(0, strOff + nameOff)));
    at += 12 + btfTail(kind, vlen);
  }
  return names;
}

function btfTail(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
      return vlen * 12;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return vlen * 8;
    case 19: // ENUM64
      return vlen * 12;
    default:
      return 0;
  }
}

export function attachPoints(params: AttachPointsParams): AttachPointsResult {
  const readers = { tracepoint: tracepoints, function: filterFunctions, btf: btfFunctions };
  const read = readers[params?.kind];
  if (!read) throw new AgentError(`attachPoints needs kind: tracepoint, function or btf (not "${String(params?.kind)}").`, 'EINVAL');
  const limit = params.limit ?? 5000;
  const all = read();
  if (typeof all === 'string') return { names: [], truncated: false, unavailable: all };
  const matching = params.prefix ? all.filter((n) => n.startsWith(params.prefix as string)) : all;
  matching.sort();
  return { names: matching.slice(0, limit), truncated: matching.length > limit };
}
