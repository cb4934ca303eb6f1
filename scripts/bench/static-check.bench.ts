// Benchmark of tier-1 checking on a generated 5,000-line probe file: diagnostics after a one-line
// edit and completion, through the real server over LSP and in-process, next to clang-19 -fsyntax-only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProbeWorkspace } from '../../server/src/features/probe-workspace';
import { completionsAt } from '../../server/src/features/completion';
import { LanguageServerProcess } from '../../test/lsp/language-server-process';

const TARGET_LINES = 5000;
const ROUNDS = 40;

function generateProbe(): string {
  const parts = [`#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event { __u32 pid; __u64 ts; char comm[16]; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline __u64 bump(__u32 key)
{
	__u64 one = 1, *value = bpf_map_lookup_elem(&counts, &key);
	if (value) {
		__sync_fetch_and_add(value, 1);
		return *value;
	}
	bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	return 1;
}
`];
  let lines = parts[0].split('\n').length;
  for (let i = 0; lines < TARGET_LINES - 2; i++) {
    const body = `
SEC("tracepoint/syscalls/sys_enter_openat")
int handle_${i}(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (bump(pid + ${i}) > 1000)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->ts = bpf_ktime_get_ns();
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
`;
    parts.push(body);
    lines += body.split('\n').length - 1;
  }
  parts.push('\nchar LICENSE[] SEC("license") = "GPL";\n');
  return parts.join('');
}

/** CPU time (user + system, ms) a process has used, from /proc (10 ms resolution: use over many rounds). */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function p90(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.9)];
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function main(): Promise<void> {
  const text = generateProbe();
  const lineCount = text.split('\n').length;
  const lines = text.split('\n');
  // the typical keystroke: inside a function body, half way down the file
  const editLine = lines.findIndex((line, index) => index >= lineCount / 2 && line.includes('e->pid = pid;'));
  const editColumn = lines[editLine].length;
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-bench-'));
  const path = join(dir, 'bench.bpf.c');
  writeFileSync(path, text);
  const withEdit = (round: number) => {
    const copy = [...lines];
    copy[editLine] = `${copy[editLine]} /* edit ${round} */`;
    return copy.join('\n');
  };
  try {
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (wall-clock figures grow with the load)`);
    console.log(`probe file: ${lineCount} lines, ${text.length} bytes; one-line edit on line ${editLine + 1}`);

    // in-process (the same modules the server runs)
    const workspace = new ProbeWorkspace();
    workspace.setTargetKernel('6.1');
    const uri = 'file:///bench.bpf.c';
    let start = performance.now();
    await workspace.update(uri, text);
    const initial = workspace.diagnostics(uri);
    const firstMs = performance.now() - start;
    const inProcess: number[] = [];
    const inProcessCpu: number[] = [];
    const inProcessFull: number[] = [];
    let deferred: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      start = performance.now();
      const cpuStart = process.cpuUsage();
      await workspace.update(uri, withEdit(round));
      deferred = workspace.quickDiagnostics(uri).deferred;
      const cpu = process.cpuUsage(cpuStart);
      inProcess.push(performance.now() - start);
      inProcessCpu.push((cpu.user + cpu.system) / 1000);
      start = performance.now();
      workspace.diagnostics(uri);
      inProcessFull.push(performance.now() - start);
    }
    const file = workspace.file(uri);
    const completionInProcess: number[] = [];
    for (let round = 0; round < ROUNDS && file; round++) {
      start = performance.now();
      completionsAt(file, { line: editLine, character: 1 });
      completionInProcess.push(performance.now() - start);
    }
    console.log(`in-process: first parse + check ${fmt(firstMs)} (${initial.length} diagnostics)`);
    console.log(`in-process: diagnostics after a one-line edit  median ${fmt(median(inProcess))}  p90 ${fmt(p90(inProcess))}  (CPU time median ${fmt(median(inProcessCpu))})`);
    console.log(`in-process: deferred slow whole-file rules [${deferred.join(', ')}], re-run when idle: median ${fmt(median(inProcessFull))}`);
    console.log(`in-process: completion                          median ${fmt(median(completionInProcess))}  p90 ${fmt(p90(completionInProcess))}`);

    // over LSP through the built server
    const server = new LanguageServerProcess();
    const overLsp: number[] = [];
    const completionOverLsp: number[] = [];
    let serverCpuPerEdit: number | undefined;
    try {
      await server.initialize({ settings: { targetKernel: '6.1' } });
      const lspUri = await server.open(path, text);
      await server.waitForDiagnostics(lspUri, (p) => p.version === 1, 30000);
      const cpuBefore = processCpuMs(server.pid);
      for (let round = 0; round < ROUNDS; round++) {
        const version = round + 2;
        start = performance.now();
        await server.change(lspUri, version, [{
          range: { start: { line: editLine, character: editColumn }, end: { line: editLine, character: lines[editLine].length + (round === 0 ? 0 : ` /* edit ${round - 1} */`.length) } },
          text: ` /* edit ${round} */`,
        }]);
        await server.waitForDiagnostics(lspUri, (p) => p.version === version, 30000);
        overLsp.push(performance.now() - start);
      }
      const cpuAfter = processCpuMs(server.pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined) serverCpuPerEdit = (cpuAfter - cpuBefore) / ROUNDS;
      for (let round = 0; round < ROUNDS; round++) {
        start = performance.now();
        await server.connection.sendRequest('textDocument/completion', { textDocument: { uri: lspUri }, position: { line: editLine, character: 1 } });
        completionOverLsp.push(performance.now() - start);
      }
    } finally {
      await server.shutdown();
    }
    console.log(`over LSP:   diagnostics after a one-line edit  median ${fmt(median(overLsp))}  p90 ${fmt(p90(overLsp))}  (target < 20 ms)${serverCpuPerEdit !== undefined ? `; server CPU per edit ${fmt(serverCpuPerEdit)} (mean)` : ''}`);
    console.log(`over LSP:   completion round trip               median ${fmt(median(completionOverLsp))}  p90 ${fmt(p90(completionOverLsp))}  (target < 10 ms)`);

    // the peer tool on the same file
    const clangRuns: number[] = [];
    const include = `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
    for (let round = 0; round < 5; round++) {
      start = performance.now();
      const clang = spawnSync('clang-19', ['-fsyntax-only', '-target', 'bpf', '-O2', include, path], { encoding: 'utf8' });
      clangRuns.push(performance.now() - start);
      if (clang.status !== 0) throw new Error(`clang-19 -fsyntax-only failed: ${clang.error?.message ?? clang.stderr.slice(0, 2000)}`);
    }
    const clangMs = median(clangRuns);
    console.log(`clang-19 -fsyntax-only -target bpf (same file)  median ${fmt(clangMs)}`);
    console.log(`ratio: clang-19 / ebpf-studio diagnostics after an edit = ${(clangMs / median(overLsp)).toFixed(1)}x over LSP, ${(clangMs / median(inProcess)).toFixed(1)}x in-process`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
