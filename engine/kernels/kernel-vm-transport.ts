// Boots a kernel image in a throw-away QEMU VM (KVM when /dev/kvm is usable, TCG otherwise) with the agent as
// its init's payload, and returns an AgentClient over a virtio serial port (a unix socket here). Closing it kills QEMU.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient, AgentRequestError } from '../targets/agent-client';
import { ChildOutputLines } from '../targets/child-output-lines';
import { findAgentBundle, findNode } from '../targets/local-transport';
import { AGENT_PORT_NAME, provideInitramfs } from './kernel-initramfs';
import { initramfsCacheDir, resolveKernelImage, type KernelImage } from './kernel-images';

export interface KernelVmOptions {
  /** dist/agent.js (default: the bundle next to this one). */
  agentPath?: string;
  /** Guest memory in MiB (default 1024: Node and the BPF objects it loads). */
  memoryMiB?: number;
  /** Milliseconds from starting QEMU to the agent's hello (TCG boots take a while). */
  bootTimeoutMs?: number;
  /** Each line of the guest's console (kernel messages, init's notes). */
  onConsole?: (line: string) => void;
  /** The QEMU process id, once started. */
  onSpawn?: (pid: number) => void;
  qemuPath?: string;
}

export interface KernelVm {
  client: AgentClient;
  kernel: KernelImage;
  accelerator: 'kvm' | 'tcg';
  pid: number;
  /** Milliseconds from spawning QEMU to the agent's hello. */
  bootMs: number;
}

/** KVM when /dev/kvm can be opened read-write here, else TCG (software emulation: slower, same verdicts). */
export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The kernel command line: console on the first serial port, nothing but our init, no reboot loop on panic. */
const KERNEL_CMDLINE = 'console=ttyS0 quiet panic=-1 rdinit=/init mitigations=off';

/** What QEMU or the guest says when KVM cannot run the guest (nested KVM here: an MSR it cannot set, an instruction it cannot emulate). */
const KVM_FAILURE = /failed to set MSR|KVM internal error|kvm_\w+: Assertion/;

/**
 * Boots `spec` ("6.1", "6.12.118+deb12-cloud-amd64" or an image path) and waits for the agent inside: with KVM when
 * /dev/kvm is usable and KVM runs the guest, else (or when KVM fails on it) with TCG.
 */
export async function bootKernelVm(spec: string, options: KernelVmOptions = {}): Promise<KernelVm> {
  if (!kvmUsable()) return bootWith(spec, 'tcg', options);
  try {
    return await bootWith(spec, 'kvm', options);
  } catch (err) {
    if ((err as AgentRequestError).code !== 'EKVM') throw err;
    options.onConsole?.(`${(err as Error).message}; booting with TCG instead`);
    return bootWith(spec, 'tcg', options);
  }
}

async function bootWith(spec: string, accelerator: 'kvm' | 'tcg', options: KernelVmOptions): Promise<KernelVm> {
  const kernel = resolveKernelImage(spec);
  const agentBundle = options.agentPath ?? findAgentBundle();
  const initramfs = provideInitramfs({ kernel, agentBundle, nodePath: findNode() }, initramfsCacheDir());
  const socketDir = mkdtempSync(join(tmpdir(), 'ebpf-studio-vm-'));
  const socketPath = join(socketDir, 'agent.sock');
  const args = [
    '-nodefaults', '-no-user-config', '-no-reboot', '-display', 'none',
    '-machine', `pc,accel=${accelerator}`, '-cpu', accelerator === 'kvm' ? 'host' : 'max',
    '-m', String(options.memoryMiB ?? 1024), '-smp', '1',
    '-kernel', kernel.image, '-initrd', initramfs, '-append', KERNEL_CMDLINE,
    '-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console',
    '-device', 'virtio-serial-pci', '-chardev', `socket,id=agent,path=${socketPath},server=on,wait=off`,
    '-device', `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`,
  ];
  const qemu = options.qemuPath ?? 'qemu-system-x86_64';
  const started = performance.now();
  const child = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = child.pid;
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  child.on('close', () => rmSync(socketDir, { recursive: true, force: true }));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  let kvmFailure: string | undefined;
  const guestConsole = new ChildOutputLines(40, (line) => {
    options.onConsole?.(line);
    if (accelerator !== 'kvm' || kvmFailure || !KVM_FAILURE.test(line)) return;
    kvmFailure = line;
    kill();
  });
  guestConsole.follow(child.stdout);
  guestConsole.follow(child.stderr);
  const name = `kernel:${spec}`;
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const socket = await connectAgentSocket(socketPath, exited);
  if (!socket) {
    kill();
    await exited;
    if (kvmFailure) throw new AgentRequestError(`${name}: KVM cannot run this guest here (${kvmFailure})`, 'EKVM');
    const why = spawnError ? `${spawnError.message}${(spawnError as NodeJS.ErrnoException).code === 'ENOENT' ? ' (apt-get install qemu-system-x86)' : ''}` : guestConsole.last(8).join(' | ');
    throw new AgentRequestError(`${name}: QEMU did not start: ${why}`, 'EQEMU');
  }
  // Connected: the socket's name is no longer needed, so nothing stays in /tmp even if this process is killed.
  rmSync(socketDir, { recursive: true, force: true });
  child.on('close', () => socket.destroy());
  const client = new AgentClient(socket, {
    targetName: name,
    closeReason: () => `the VM stopped; its console ended with: ${guestConsole.last(8).join(' | ') || '(nothing)'}`,
    dispose: kill,
  });
  if (pid !== undefined) options.onSpawn?.(pid);
  try {
    await client.request('hello', {}, { timeoutMs: options.bootTimeoutMs ?? 300_000 });
  } catch (err) {
    kill();
    // QEMU's exit, not the socket's close: the socket may close before QEMU's last stderr lines (the KVM failure) are read
    await Promise.all([client.closed, exited]);
    if (kvmFailure) throw new AgentRequestError(`${name}: KVM cannot run this guest here (${kvmFailure})`, 'EKVM');
    throw new AgentRequestError(`${name} (${kernel.release}, ${accelerator.toUpperCase()}) did not boot to the agent: ${(err as Error).message}`, 'EBOOT');
  }
  return { client, kernel, accelerator, pid: pid ?? -1, bootMs: Math.round(performance.now() - started) };
}

/** Connects to QEMU's agent socket once it exists; undefined when QEMU exits (or never creates it) first. */
async function connectAgentSocket(path: string, exited: Promise<void>): Promise<Socket | undefined> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (let waited = 0; waited < 30_000 && !gone; waited += 20) {
    if (existsSync(path)) {
      const socket = await new Promise<Socket | undefined>((resolve) => {
        const s = createConnection(path, () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
      if (socket) return socket;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}
