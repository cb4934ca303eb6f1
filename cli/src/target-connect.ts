// Opens the agent of a --target for CLI commands: local (sudo's password asked on the terminal), a kernel VM, or SSH
// (its connector, ssh2 and the terminal questions, loaded only for an SSH target: ssh-target-connect.ts).
import type { AgentClient } from '../../engine/targets/agent-client';
import { bootKernelVm } from '../../engine/kernels/kernel-vm-transport';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import type { SshAgent } from '../../engine/targets/ssh-transport';
import { resolveTarget } from '../../engine/targets/target-address';
import { terminalSudoPassword } from './terminal-question';

export interface CliTargetOptions {
  identity?: string;
  knownHosts?: string;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Told what an SSH host is (its facts and prerequisites) once its agent runs. */
  onSshHost?: (host: Pick<SshAgent, 'facts' | 'prerequisites' | 'privilege'>) => void;
}

/** EBPF_STUDIO_AGENT: an agent bundle to run instead of the one next to the CLI (development and tests). */
function agentOverride(): string | undefined {
  return process.env.EBPF_STUDIO_AGENT || undefined;
}

/** The agent of a target (local, kernel:6.1, ssh://user@host[:port], user@host or an ~/.ssh/config alias). */
export async function connectCliTarget(target: string, options: CliTargetOptions): Promise<AgentClient> {
  const spec = resolveTarget(target, options.identity ? { identity: options.identity } : {});
  const agentPath = agentOverride();
  const installRoot = process.env.EBPF_STUDIO_INSTALL_ROOT;
  if (spec.kind === 'local') {
    return connectLocalAgent({ onStderr: (line) => options.log(`agent: ${line}`), sudoPassword: terminalSudoPassword, ...(agentPath ? { agentPath } : {}), ...(installRoot ? { installRoot } : {}) });
  }
  if (spec.kind === 'kernel') {
    const vm = await bootKernelVm(spec.kernel, { ...(agentPath ? { agentPath } : {}), onConsole: (line) => options.log(`${spec.name}: ${line}`) });
    options.log(`${spec.name}: ${vm.kernel.release} booted (${vm.accelerator.toUpperCase()}, QEMU pid ${vm.pid}) in ${vm.bootMs} ms`);
    return vm.client;
  }
  const { connectSshAgent, terminalPrompts } = await import('./ssh-target-connect.js');
  const agent = await connectSshAgent(spec.host, {
    ...(agentPath ? { agentBundle: agentPath } : {}),
    prompts: terminalPrompts(target),
    ...(options.knownHosts ? { knownHostsPath: options.knownHosts } : {}),
    log: options.log,
    onStderr: (line) => options.log(`agent: ${line}`),
    ...(installRoot ? { installRoot } : {}),
    ...(process.env.EBPF_STUDIO_NODE_RUNTIME ? { runtime: { localTarball: process.env.EBPF_STUDIO_NODE_RUNTIME } } : {}),
  });
  options.onSshHost?.(agent);
  return agent.client;
}
