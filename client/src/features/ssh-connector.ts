// Connects SSH targets for the Studio hub: asks host-key, password, passphrase and sudo questions in the editor, offers to keep a
// login password in SecretStorage (never plain text; the sudo password is never kept), logs what ran on the host. Talks to engine/targets/ssh-transport.
import * as vscode from 'vscode';
import type { ResolvedTarget, Studio } from '../studio';
import type { HostKeyQuestion, SshPrompts } from '../../../engine/targets/ssh-connection';
import { resolveTarget, type SshHost } from '../../../engine/targets/target-address';
import { sudoPasswordBox } from './sudo-password-box';

function secretKey(host: SshHost): string {
  return `ebpfStudio.sshPassword:${host.user}@${host.host}:${host.port}`;
}

function editorPrompts(target: ResolvedTarget, studio: Studio): SshPrompts {
  return {
    async confirmHostKey(q: HostKeyQuestion) {
      const detail =
        `${q.address} is not in ${q.knownHostsPath}.\n\n${q.keyType} key fingerprint:\n${q.fingerprint}\n\n` +
        (q.otherTypesKnown.length ? `A ${q.otherTypesKnown.join(', ')} key of this host is already known; this is a different key type.\n\n` : '') +
        'Compare it with the fingerprint the host\'s administrator gives you (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) before trusting it.';
      const trust = 'Trust and Connect';
      const choice = await vscode.window.showWarningMessage(`eBPF Studio: first connection to ${target.name}`, { modal: true, detail }, trust);
      target.output.appendLine(choice === trust ? `host key ${q.fingerprint} of ${q.address} trusted by the user` : `host key ${q.fingerprint} of ${q.address} not trusted; not connecting`);
      return choice === trust;
    },
    password: (q) =>
      Promise.resolve(
        vscode.window.showInputBox({
          title: `Password for ${q.user}@${q.address}`,
          prompt: q.attempt > 1 ? 'The host refused that password; try again.' : `eBPF Studio connects to ${target.name} over SSH.`,
          password: true,
          ignoreFocusOut: true,
        }),
      ),
    passphrase: (q) =>
      Promise.resolve(
        vscode.window.showInputBox({
          title: `Passphrase for ${q.keyFile}`,
          prompt: q.attempt > 1 ? 'That passphrase did not decrypt the key; try again.' : `Needed to use this key for ${target.name}.`,
          password: true,
          ignoreFocusOut: true,
        }),
      ),
    sudoPassword: studio.sudoQuestions.wrap(target.name, sudoPasswordBox),
  };
}

async function connectSsh(target: ResolvedTarget, studio: Studio) {
  const spec = resolveTarget(target.name, { settings: target.configured });
  if (spec.kind !== 'ssh') throw new Error(`${target.name} is not an SSH target.`);
  const secrets = studio.context.secrets;
  const saved = await secrets.get(secretKey(spec.host));
  const log = (line: string) => target.output.appendLine(`[${new Date().toISOString()}] ${line}`);
  const runtimeTarball = vscode.workspace.getConfiguration('ebpfStudio').get<string>('nodeRuntimeTarball')?.trim();
  // Loaded on first use: ssh2 costs ~90 ms to evaluate, which activation must not pay.
  const { connectSshAgent } = await import('../../../engine/targets/ssh-transport.js');
  const agent = await connectSshAgent(spec.host, {
    prompts: editorPrompts(target, studio),
    agentBundle: studio.context.asAbsolutePath('dist/agent.js'),
    ...(saved ? { password: saved } : {}),
    ...(runtimeTarball ? { runtime: { localTarball: runtimeTarball } } : {}),
    log,
    onStderr: (line) => target.output.appendLine(`agent: ${line}`),
  });
  log(`agent started in ${Object.values(agent.timings).reduce((a, b) => a + b, 0)} ms (${agent.uploaded ? 'uploaded' : 'cached'}), kernel ${agent.facts.kernelRelease}`);
  if (agent.connection.authenticatedWith === 'password' && agent.connection.password && agent.connection.password !== saved) {
    const typed = agent.connection.password;
    const remember = 'Remember in Secret Storage';
    void vscode.window.showInformationMessage(`Remember the password for ${spec.host.user}@${spec.host.host}? It is kept in VS Code's secret storage (the OS keychain), never in settings.`, remember).then((choice) => {
      if (choice === remember) void secrets.store(secretKey(spec.host), typed);
    });
  }
  return agent.client;
}

export function activate(studio: Studio): void {
  studio.context.subscriptions.push(studio.registerConnector('ssh', (target) => connectSsh(target, studio)));
}
