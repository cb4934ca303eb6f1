// Benchmark of the probe templates: for each, compile (the product's compile, vmlinux.h precompiled, vs plain clang) and
// load through the verifier: warm (agent running) and cold (agent started for it) vs `bpftool prog loadall`, which starts
// a process for every load; medians of several runs side by side with each ratio labelled. Needs root.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AgentClient } from '../../engine/targets/agent-client';
import { connectLocalAgent, findAgentBundle } from '../../engine/targets/local-transport';
import { compileProbe, includeDirs, probeCodegenFlags } from '../../engine/toolchain/compile-probe';
import { findClang } from '../../engine/toolchain/find-clang';
import { multiarchIncludeDir, bpfTargetArch } from '../../engine/toolchain/target-arch';
import { provideVmlinuxHeader } from '../../engine/toolchain/vmlinux-header';
import { precompileVmlinuxInBackground } from '../../engine/toolchain/vmlinux-pch';
import { listTemplates } from '../../engine/templates/template-catalog';
import { resolveParameterValues, templateLoadOptions } from '../../engine/templates/template-parameters';

const RUNS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(run: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the templates benchmark loads programs: run it as root');
  const agentPath = findAgentBundle();
  const client = await connectLocalAgent({ agentPath });
  const scratch = mkdtempSync(join(tmpdir(), 'ebpf-templates-bench-'));
  const pinDir = `/sys/fs/bpf/ebpf-studio-bench-${process.pid}`;
  try {
    const hello = await client.request('hello', {});
    const clang = await findClang();
    console.log(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores shared by several engineers: loaded-machine figures)`);
    const rows: string[][] = [['template', 'compile ms', 'clang ms', 'compile ratio', 'load warm ms', 'load cold ms', 'bpftool loadall ms', 'warm ratio', 'cold ratio']];
    for (const template of listTemplates().templates) {
      const vmlinux = await provideVmlinuxHeader(includeDirs(template.sourcePath, hello.arch), {
        knownSha256: hello.btfSha256,
        fetchBtf: async () => Buffer.from((await client.request('btf', {})).btf, 'base64'),
      });
      const vmlinuxDir = dirname(vmlinux.path);
      let object: Buffer | undefined;
      const compileMs: number[] = [];
      const clangMs: number[] = [];
      const objectPath = join(scratch, `${template.name}.o`);
      const multiarch = multiarchIncludeDir(hello.arch);
      // As run and attach compile it: through the precompiled vmlinux.h (built by the first template, before its timed runs).
      const precompiledHeader = await precompileVmlinuxInBackground(clang, vmlinux.path, probeCodegenFlags({ machine: hello.arch }), readFileSync(template.sourcePath, 'utf8'), true);
      for (let i = 0; i < RUNS; i++) {
        compileMs.push(await timed(async () => (object = (await compileProbe({ sourcePath: template.sourcePath, clang, machine: hello.arch, vmlinuxDir, ...(precompiledHeader ? { precompiledHeader } : {}) })).object)));
        clangMs.push(
          await timed(() =>
            execFileSync(clang.path, ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${bpfTargetArch(hello.arch)}`, `-I${vmlinuxDir}`, ...(multiarch ? [`-idirafter${multiarch}`] : []), '-c', template.sourcePath, '-o', objectPath]),
          ),
        );
      }
      if (!object) throw new Error(`${template.name} did not compile`);
      writeFileSync(objectPath, object);
      const options = templateLoadOptions(template.manifest, resolveParameterValues(template.manifest), hello.arch);
      const loadMs: number[] = [];
      const coldMs: number[] = [];
      const bpftoolMs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const bytes = object;
        const loadOnce = async (agent: AgentClient) => {
          const loaded = await agent.request('load', { object: bytes.toString('base64'), globals: options.globals, noAttach: true, stats: false });
          await agent.request('detach', { session: loaded.session });
        };
        loadMs.push(await timed(() => loadOnce(client)));
        // Cold, as bpftool always is: a new agent process (node, koffi, libbpf) for this one load, stopped after.
        coldMs.push(
          await timed(async () => {
            const fresh = await connectLocalAgent({ agentPath });
            try {
              await loadOnce(fresh);
            } finally {
              await fresh.close();
            }
          }),
        );
        bpftoolMs.push(
          await timed(() => {
            const run = spawnSync('bpftool', ['prog', 'loadall', objectPath, pinDir], { stdio: 'ignore' });
            rmSync(pinDir, { recursive: true, force: true });
            if (run.status !== 0) throw new Error(`bpftool prog loadall ${template.name} failed`);
          }),
        );
      }
      const [c, cl, l, lc, b] = [median(compileMs), median(clangMs), median(loadMs), median(coldMs), median(bpftoolMs)];
      rows.push([template.name, c.toFixed(1), cl.toFixed(1), (c / cl).toFixed(2), l.toFixed(1), lc.toFixed(1), b.toFixed(1), `${(l / b).toFixed(2)}x`, `${(lc / b).toFixed(2)}x`]);
    }
    const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
    for (const row of rows) console.log(row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  '));
    console.log(`(medians of ${RUNS} runs; ratio = ours / peer. compile: in-process call, clang reading the precompiled vmlinux.h, vs a clang process parsing`);
    console.log(` vmlinux.h. load = load without attach + detach over the JSON-lines RPC: warm on an agent already running (its start left out),`);
    console.log(` cold with the agent's start and stop included; bpftool prog loadall is a new process each time, so cold vs cold is the like-for-like ratio)`);
    console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    rmSync(pinDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    await client.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
