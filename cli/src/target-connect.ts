// Opens the agent of a --target for CLI commands: local, or SSH with questions asked on the terminal (host key fingerprint;
// password, passphrase and sudo password typed hidden); without a terminal, an unknown host key is refused with how to add it.
import { AgentClient } from '../../engine/targets/agent-client';
import { bootKernelVm } from '../../engine/kernels/kernel-vm-transport';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import type { HostKeyQuestion, SshPrompts } from '../../engine/targets/ssh-connection';
import { connectSshAgent, type SshAgent } from '../../engine/targets/ssh-transport';
import { resolveTarget } from '../../engine/targets/target-address';

export interface CliTargetOptions {
  identity?: string;
  knownHosts?: string;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Told what an SSH host is (its facts and prerequisites) once its agent runs. */
  onSshHost?: (host: Pick<SshAgent, 'facts' | 'prerequisites' | 'privilege'>) => void;
}

/** Reads one line from the terminal; hidden input is not echoed. Undefined when there is no terminal. */
function askTerminal(question: string, hidden: boolean): Promise<string | undefined> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.resolve(undefined);
  process.stderr.write(question);
  return new Promise((resolve) => {
    let answer = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (value: string | undefined) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(answer);
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined);
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else {
          answer += ch;
          if (!hidden) process.stderr.write(ch);
        }
      }
    };
    stdin.on('data', onData);
  });
}

export function terminalPrompts(target: string): SshPrompts {
  return {
    async confirmHostKey(q: HostKeyQuestion) {
      const text =
        `The authenticity of host '${q.address}' can't be established.\n` +
        `${q.keyType} key fingerprint is ${q.fingerprint}.\n` +
        (q.otherTypesKnown.length ? `(${q.knownHostsPath} already has a ${q.otherTypesKnown.join(', ')} key for it.)\n` : '') +
        'Are you sure you want to continue connecting (yes/no)? ';
      const answer = await askTerminal(text, false);
      if (answer === undefined) {
        throw new Error(
          `${q.address} is not in ${q.knownHostsPath} (${q.keyType} ${q.fingerprint}) and there is no terminal to ask. ` +
            `Check the fingerprint, then add the key (e.g. \`ssh-keyscan -p PORT HOST >> ${q.knownHostsPath}\`) or run once interactively (--target ${target}).`,
        );
      }
      return answer.trim().toLowerCase() === 'yes';
    },
    password: (q) => askTerminal(`${q.user}@${q.address}'s password${q.attempt > 1 ? ' (try again)' : ''}: `, true),
    passphrase: (q) => askTerminal(`Enter passphrase for key '${q.keyFile}'${q.attempt > 1 ? ' (try again)' : ''}: `, true),
    sudoPassword: (q) => askTerminal(`[sudo] password for ${q.user} on ${q.target}${q.attempt > 1 ? ' (try again)' : ''}: `, true),
  };
}

/** EBPF_STUDIO_AGENT: an agent bundle to run instead of the one next to the CLI (development and tests). */
function agentOverride(): string | undefined {
  return process.env.EBPF_STUDIO_AGENT || undefined;
}

/** The agent of a target (local, kernel:6.1, ssh://user@host[:port], user@host or an ~/.ssh/config alias). */
export async function connectCliTarget(target: string, options: CliTargetOptions): Promise<AgentClient> {
  const spec = resolveTarget(target, options.identity ? { identity: options.identity } : {});
  const agentPath = agentOverride();
  if (spec.kind === 'local') return connectLocalAgent({ onStderr: (line) => options.log(`agent: ${line}`), ...(agentPath ? { agentPath } : {}) });
  if (spec.kind === 'kernel') {
    const vm = await bootKernelVm(spec.kernel, { ...(agentPath ? { agentPath } : {}), onConsole: (line) => options.log(`${spec.name}: ${line}`) });
    options.log(`${spec.name}: ${vm.kernel.release} booted (${vm.accelerator.toUpperCase()}, QEMU pid ${vm.pid}) in ${vm.bootMs} ms`);
    return vm.client;
  }
  const agent = await connectSshAgent(spec.host, {
    ...(agentPath ? { agentBundle: agentPath } : {}),
    prompts: terminalPrompts(target),
    ...(options.knownHosts ? { knownHostsPath: options.knownHosts } : {}),
    log: options.log,
    onStderr: (line) => options.log(`agent: ${line}`),
    ...(process.env.EBPF_STUDIO_INSTALL_ROOT ? { installRoot: process.env.EBPF_STUDIO_INSTALL_ROOT } : {}),
    ...(process.env.EBPF_STUDIO_NODE_RUNTIME ? { runtime: { localTarball: process.env.EBPF_STUDIO_NODE_RUNTIME } } : {}),
  });
  options.onSshHost?.(agent);
  return agent.client;
}
