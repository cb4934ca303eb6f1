// `npx tsx scripts/gen-tracepoint-args.ts`: reads the running kernel's BTF (bpftool btf dump) and writes the
// argument types of every BTF-enabled tracepoint (btf_trace_<name>) to server/src/kernel/generated/tracepoint-args.json.
import { execFileSync } from 'node:child_process';
import { release } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TracepointArgs {
  /** The kernel build (`uname -r`) the table was read from. */
  kernelRelease: string;
  /** Tracepoint name → the C types of its arguments, in order (the leading `void *` context left out). */
  tracepoints: Record<string, string[]>;
}

export const TRACEPOINT_ARGS_FILE = join(__dirname, '..', 'server', 'src', 'kernel', 'generated', 'tracepoint-args.json');

const BTF_TRACE_TYPEDEF = /^typedef void \(\*btf_trace_(\w+)\)\(void \*(?:, (.*))?\);$/;

/** The running kernel's tp_btf tracepoints and their argument types, from /sys/kernel/btf/vmlinux. */
export function readTracepointArgs(): TracepointArgs {
  const header = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  const tracepoints: Record<string, string[]> = {};
  for (const line of header.split('\n')) {
    const match = BTF_TRACE_TYPEDEF.exec(line);
    if (match) tracepoints[match[1]] = match[2] ? splitArguments(match[2]) : [];
  }
  return { kernelRelease: release(), tracepoints: Object.fromEntries(Object.entries(tracepoints).sort(([a], [b]) => a.localeCompare(b))) };
}

/** Splits a C parameter list at top-level commas (function-pointer arguments have their own parentheses). */
function splitArguments(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === '(') depth++;
    else if (list[i] === ')') depth--;
    else if (list[i] === ',' && depth === 0) {
      parts.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(list.slice(start).trim());
  return parts;
}

if (require.main === module) {
  const table = readTracepointArgs();
  writeFileSync(TRACEPOINT_ARGS_FILE, `${JSON.stringify(table)}\n`);
  console.log(`kernel ${table.kernelRelease}: ${Object.keys(table.tracepoints).length} BTF tracepoints written to ${TRACEPOINT_ARGS_FILE}`);
}
