// Kernel targets under QEMU: cold boot to the first verdict and a warm verify on the booted VM, beside a
// vmtest-style boot-and-run by hand (same kernel, busybox init running `bpftool prog loadall`) and a local verify.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { hostFile, writeCpioArchive, type CpioEntry } from '../../engine/kernels/cpio-archive';
import { resolveKernelImage } from '../../engine/kernels/kernel-images';
import { bootKernelVm, kvmUsable } from '../../engine/kernels/kernel-vm-transport';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { findClang } from '../../engine/toolchain/find-clang';
import { verifyProbe } from '../../engine/verify/verify-probe';
import { readProbePrograms } from '../../server/src/analysis/probe-programs';
import { buildTestAgent } from '../../test/kernel/build-test-agent';

const KERNEL = process.env.BENCH_KERNEL ?? '6.12';
const WARM_RUNS = 5;
const probe = resolve(__dirname, '../../../shared/realworld/libbpf-bootstrap/bootstrap.bpf.c');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Boots the kernel with busybox + bpftool and an init that loads `object`, as one would by hand; ms to QEMU's exit. */
function bootAndRunByHand(image: string, object: string, work: string): { ms: number; loaded: boolean } {
  const bpftool = execFileSync('sh', ['-c', 'command -v bpftool'], { encoding: 'utf8' }).trim();
  const libs = [...execFileSync('ldd', [bpftool], { encoding: 'utf8' }).matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
  const init = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc; /bin/busybox mount -t sysfs sysfs /sys; /bin/busybox mount -t bpf bpf /sys/fs/bpf
${bpftool} prog loadall /probe.bpf.o /sys/fs/bpf/probe && echo BENCH-LOADED
/bin/busybox reboot -f
`;
  const files: CpioEntry[] = [
    { kind: 'file', path: '/init', mode: 0o755, data: Buffer.from(init) },
    hostFile('/bin/busybox'),
    hostFile(bpftool),
    ...libs.map((l) => hostFile(l)),
    { kind: 'file', path: '/probe.bpf.o', mode: 0o644, data: readFileSync(object) },
  ];
  const dirs = new Set<string>(['/proc', '/sys', '/bin']);
  for (const f of files) for (let d = dirname(f.path); d !== '/'; d = dirname(d)) dirs.add(d);
  const cpio = join(work, 'by-hand.cpio');
  writeCpioArchive(cpio, [...[...dirs].sort((a, b) => a.split('/').length - b.split('/').length).map((path): CpioEntry => ({ kind: 'dir', path })), ...files]);
  const started = performance.now();
  const run = spawnSync('qemu-system-x86_64', ['-nodefaults', '-no-user-config', '-no-reboot', '-display', 'none', '-machine', `pc,accel=${kvmUsable() ? 'kvm' : 'tcg'}`, '-cpu', kvmUsable() ? 'host' : 'max', '-m', '1024', '-smp', '1', '-kernel', image, '-initrd', cpio, '-append', 'console=ttyS0 quiet panic=-1 rdinit=/init mitigations=off', '-serial', 'stdio'], { encoding: 'utf8', timeout: 600_000 });
  return { ms: performance.now() - started, loaded: run.stdout.includes('BENCH-LOADED') };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('kernel-vm.bench needs root (the local verify loads programs)');
  const agent = await buildTestAgent();
  const work = mkdtempSync(join(os.tmpdir(), 'kernel-vm-bench-'));
  try {
    const kernel = resolveKernelImage(KERNEL);
    const programs = await readProbePrograms(probe);
    // Cold: QEMU started → kernel booted → agent up → vmlinux.h from its BTF → compiled → verified.
    const coldStart = performance.now();
    const vm = await bootKernelVm(KERNEL, { agentPath: agent.path });
    const first = await verifyProbe({ sourcePath: probe, programs, agent: vm.client });
    const coldMs = performance.now() - coldStart;
    if (first.verdict !== 'accepted') throw new Error(`bootstrap.bpf.c should be accepted on ${kernel.release}, got ${first.verdict}`);
    const warm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) warm.push((await verifyProbe({ sourcePath: probe, programs, agent: vm.client })).timings.totalMs);
    await vm.client.close();

    const local = await connectLocalAgent({ agentPath: agent.path });
    const localRuns: number[] = [];
    await verifyProbe({ sourcePath: probe, programs, agent: local });
    for (let i = 0; i < WARM_RUNS; i++) localRuns.push((await verifyProbe({ sourcePath: probe, programs, agent: local })).timings.totalMs);
    await local.close();

    // By hand: the object compiled against this kernel's vmlinux.h, then boot + bpftool loadall + power off.
    const clang = await findClang();
    const object = join(work, 'probe.bpf.o');
    execFileSync(clang.path, ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', `-I${dirname(first.vmlinux?.path ?? '')}`, '-I/usr/include/x86_64-linux-gnu', '-c', probe, '-o', object]);
    const byHand = bootAndRunByHand(kernel.image, object, work);
    if (!byHand.loaded) throw new Error('the by-hand boot did not load the probe');

    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`kernel ${kernel.release}, ${vm.accelerator.toUpperCase()}, probe libbpf-bootstrap/bootstrap.bpf.c, load average ${load}`);
    console.log(`cold: QEMU start → first verdict   ${seconds(coldMs)} (boot to agent ${seconds(vm.bootMs)})   by hand (boot, bpftool prog loadall, power off): ${seconds(byHand.ms)}   ratio ${(coldMs / byHand.ms).toFixed(2)}×`);
    console.log(`warm: verify on the booted VM      ${median(warm).toFixed(0)} ms median of ${WARM_RUNS}   local verify: ${median(localRuns).toFixed(0)} ms   ratio ${(median(warm) / median(localRuns)).toFixed(2)}× (target ≤ 2×)`);
    if (vm.accelerator === 'tcg') {
      // No /dev/kvm here. TCG translates every guest instruction; KVM runs them natively, so boot and verify (guest CPU
      // work) shrink by the TCG/KVM slowdown, commonly 10–20× for kernel boot and JIT-less user code.
      console.log(`KVM estimate (not measured, no /dev/kvm): cold ${seconds(coldMs / 20)}–${seconds(coldMs / 10)}, warm in-VM verify close to local (TCG/KVM 10–20× on guest CPU time)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    agent.remove();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
