// Benchmarks the full kernel check of a typical probe that includes vmlinux.h (compile + load through the agent
// + parse into diagnostics) against clang plus `bpftool prog loadall` by hand on the same file, cold (agent start and
// vmlinux.h generation included on both sides) and warm; prints both ratios, each labelled.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { bpfTargetArch, multiarchIncludeDir } from '../../engine/toolchain/target-arch';
import { findClang } from '../../engine/toolchain/find-clang';
import { verifyProbe } from '../../engine/verify/verify-probe';
import { readProbePrograms } from '../../server/src/analysis/probe-programs';
import { agentBundle } from '../../test/kernel/verify/agent-under-test';

const RUNS = 10;
const probe = resolve(__dirname, '../../test/fixtures/verifier-probes/accepted-vmlinux.bpf.c');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function bpftoolPath(): string {
  return execFileSync('sh', ['-c', 'command -v bpftool || echo /usr/sbin/bpftool'], { encoding: 'utf8' }).trim();
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('verify.bench needs root (it loads programs through the kernel verifier)');
  const clang = await findClang();
  const bpftool = bpftoolPath();
  const agentStarted = performance.now();
  const agent = await connectLocalAgent({ agentPath: agentBundle() });
  const agentStartMs = performance.now() - agentStarted;
  const work = mkdtempSync(join(os.tmpdir(), 'verify-bench-'));
  const pinDir = `/sys/fs/bpf/ebpf-studio-bench-verify-${process.pid}`;
  try {
    // Cold: the agent's start, vmlinux.h generated from the kernel's BTF (a fresh cache home) and the first check.
    const coldStarted = performance.now();
    // The first check also precompiles vmlinux.h (once per kernel and clang); the warm checks read it, as every later one does.
    const warm = await verifyProbe({ sourcePath: probe, programs: await readProbePrograms(probe), agent });
    if (warm.verdict !== 'accepted') throw new Error(`the bench probe should be accepted, got ${warm.verdict}`);
    const oursColdMs = agentStartMs + (performance.now() - coldStarted);
    const vmlinuxDir = dirname(warm.vmlinux?.path ?? '');
    const multiarch = multiarchIncludeDir(os.machine());
    const object = join(work, 'probe.bpf.o');
    const byHand = () => {
      const started = performance.now();
      execFileSync(clang.path, ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${bpfTargetArch(os.machine())}`, `-I${vmlinuxDir}`, ...(multiarch ? [`-I${multiarch}`] : []), '-c', probe, '-o', object]);
      const load = spawnSync(bpftool, ['prog', 'loadall', object, pinDir], { encoding: 'utf8' });
      const ms = performance.now() - started;
      rmSync(pinDir, { recursive: true, force: true });
      if (load.status !== 0) throw new Error(`bpftool prog loadall failed: ${load.stderr}`);
      return ms;
    };
    const byHandVmlinux = join(work, 'vmlinux');
    const peerColdStarted = performance.now();
    execFileSync('sh', ['-c', `mkdir -p ${byHandVmlinux} && ${bpftool} btf dump file /sys/kernel/btf/vmlinux format c > ${byHandVmlinux}/vmlinux.h`]);
    const peerColdMs = performance.now() - peerColdStarted + byHand();

    const ours: number[] = [];
    const peer: number[] = [];
    const phases: { compile: number[]; verify: number[]; parse: number[] } = { compile: [], verify: [], parse: [] };
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const result = await verifyProbe({ sourcePath: probe, programs: await readProbePrograms(probe), agent });
      ours.push(performance.now() - started);
      phases.compile.push(result.timings.compileMs);
      phases.verify.push(result.timings.verifyMs);
      phases.parse.push(result.timings.parseMs);
      peer.push(byHand());
    }
    const oursMs = median(ours);
    const peerMs = median(peer);
    console.log(`probe: ${probe} (includes vmlinux.h; ${RUNS} runs each, interleaved, medians)`);
    console.log(`cold (agent start ${agentStartMs.toFixed(0)} ms + vmlinux.h from BTF + first check) ${oursColdMs.toFixed(1)} ms; by hand (bpftool btf dump + clang + bpftool prog loadall) ${peerColdMs.toFixed(1)} ms; ratio ${(oursColdMs / peerColdMs).toFixed(2)}x`);
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores shared by several engineers: loaded-machine figures)`);
    console.log(`warm (agent running, vmlinux.h cached and precompiled) full check (compile + agent verify + parse): ${oursMs.toFixed(1)} ms  [compile ${median(phases.compile)} ms, verify ${median(phases.verify)} ms, parse ${median(phases.parse)} ms]`);
    console.log(`warm by hand, clang + bpftool prog loadall:             ${peerMs.toFixed(1)} ms`);
    console.log(`warm ratio: ${(oursMs / peerMs).toFixed(2)}x (target < 1.5x). The cold CLI as CI runs it (a new process per check): npm run bench check-verify`);
    if (oursMs / peerMs >= 1.5) process.exitCode = 1;
  } finally {
    rmSync(pinDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    await agent.close();
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
