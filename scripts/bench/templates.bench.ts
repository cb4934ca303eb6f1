// Benchmark of the probe templates: for each, compile (toolchain vs plain clang) and load through the verifier
// (agent `load` vs `bpftool prog loadall`), medians of several runs side by side with the ratio. Needs root.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connectLocalAgent, findAgentBundle } from '../../engine/targets/local-transport';
import { compileProbe, includeDirs } from '../../engine/toolchain/compile-probe';
import { findClang } from '../../engine/toolchain/find-clang';
import { multiarchIncludeDir, bpfTargetArch } from '../../engine/toolchain/target-arch';
import { provideVmlinuxHeader } from '../../engine/toolchain/vmlinux-header';
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
  const client = await connectLocalAgent({ agentPath: findAgentBundle() });
  const scratch = mkdtempSync(join(tmpdir(), 'ebpf-templates-bench-'));
  const pinDir = `/sys/fs/bpf/ebpf-studio-bench-${process.pid}`;
  try {
    const hello = await client.request('hello', {});
    const clang = await findClang();
    const rows: string[][] = [['template', 'compile ms', 'clang ms', 'ratio', 'agent load ms', 'bpftool loadall ms', 'ratio']];
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
      for (let i = 0; i < RUNS; i++) {
        compileMs.push(await timed(async () => (object = (await compileProbe({ sourcePath: template.sourcePath, clang, machine: hello.arch, vmlinuxDir })).object)));
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
      const bpftoolMs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const bytes = object;
        loadMs.push(
          await timed(async () => {
            const loaded = await client.request('load', { object: bytes.toString('base64'), globals: options.globals, noAttach: true, stats: false });
            await client.request('detach', { session: loaded.session });
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
      const [c, cl, l, b] = [median(compileMs), median(clangMs), median(loadMs), median(bpftoolMs)];
      rows.push([template.name, c.toFixed(1), cl.toFixed(1), (c / cl).toFixed(2), l.toFixed(1), b.toFixed(1), (l / b).toFixed(2)]);
    }
    const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
    for (const row of rows) console.log(row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  '));
    console.log(`(medians of ${RUNS} runs; ratio = ours / peer; agent load = load without attach + detach, over the JSON-lines RPC)`);
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
