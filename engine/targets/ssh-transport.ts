// Starts the agent on an SSH host and returns an AgentClient over the exec channel: connect (ssh-connection),
// check prerequisites, upload the agent once per version, run it (sudo -n when not root). Closing ends it all.
import type { ClientChannel } from 'ssh2';
import { AgentClient, AgentRequestError } from './agent-client';
import { agentPackage, DEFAULT_REMOTE_CACHE, supportedMachines, uploadAgent } from './agent-upload';
import { checkPrerequisites, probeAndLaunch, shellQuote, type HostFacts, type PrerequisiteReport } from './host-prerequisites';
import { findAgentBundle } from './local-transport';
import { openSsh, type SshConnectOptions, type SshConnection } from './ssh-connection';
import type { SshHost } from './target-address';

export interface SshAgentOptions extends SshConnectOptions {
  /** dist/agent.js by default. */
  agentBundle?: string;
  /** Budget for the agent's first `hello` once started. */
  startTimeoutMs?: number;
  /** Default timeout of each request. */
  requestTimeoutMs?: number;
  onStderr?: (line: string) => void;
  /** Agent cache folder on the host; default $HOME/.cache/ebpf-studio/agent. */
  remoteCacheDir?: string;
}

export interface SshAgent {
  client: AgentClient;
  connection: SshConnection;
  facts: HostFacts;
  prerequisites: PrerequisiteReport;
  /** Whether this connect uploaded the agent (false: it was cached on the host). */
  uploaded: boolean;
  /** Milliseconds spent in each phase. */
  timings: Record<'connect' | 'probe' | 'upload' | 'start', number>;
}

export class PrerequisiteError extends Error {
  constructor(
    readonly target: string,
    readonly report: PrerequisiteReport,
  ) {
    super(`${target} cannot run the eBPF Studio agent yet:\n- ${report.missing.join('\n- ')}`);
    this.name = 'PrerequisiteError';
  }
}

function exec(connection: SshConnection, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    connection.client.exec(command, (err, channel) => (err ? reject(new Error(`${connection.host.name}: cannot start the agent: ${err.message}`)) : resolve(channel))),
  );
}

export async function connectSshAgent(host: SshHost, options: SshAgentOptions): Promise<SshAgent> {
  const log = options.log ?? (() => undefined);
  const bundle = options.agentBundle ?? findAgentBundle();
  const machines = supportedMachines(bundle);
  const dirsByMachine = Object.fromEntries(machines.map((m) => [m, agentPackage(bundle, m)?.dir as string]));
  const timings = { connect: 0, probe: 0, upload: 0, start: 0 };
  let t = Date.now();
  const connection = await openSsh(host, options);
  timings.connect = Date.now() - t;
  try {
    t = Date.now();
    const cacheSpec = options.remoteCacheDir ?? DEFAULT_REMOTE_CACHE;
    const probe = await probeAndLaunch(connection.client, cacheSpec, dirsByMachine);
    const facts = probe.facts;
    const cacheRoot = cacheSpec.replace('$HOME', facts.home);
    timings.probe = Date.now() - t;
    log(`host: ${facts.machine}, Linux ${facts.kernelRelease}, node ${facts.nodeVersion ?? 'missing'}, libbpf ${facts.libbpfPath ?? 'missing'}, BTF ${facts.btf ? 'yes' : 'no'}, uid ${facts.uid}`);
    const prerequisites = checkPrerequisites(facts, machines);
    for (const w of prerequisites.warnings) log(`warning: ${w}`);
    let channel = probe.agentChannel;
    if (channel) log(`agent ${dirsByMachine[facts.machine]} already on the host; started it`);
    if (!prerequisites.ok) {
      channel?.close();
      throw new PrerequisiteError(host.name, prerequisites);
    }
    const pkg = agentPackage(bundle, facts.machine);
    if (!pkg) throw new PrerequisiteError(host.name, { ok: false, missing: [`No agent build for ${facts.machine}.`], warnings: [] });

    t = Date.now();
    const uploaded = !channel;
    if (!channel) {
      if (facts.cachedDirs.includes(pkg.dir)) log(`agent ${pkg.dir} is cached but did not start; uploading again`);
      await uploadAgent(connection.client, cacheRoot, pkg, log);
      timings.upload = Date.now() - t;
      t = Date.now();
      const agentPath = `${cacheRoot}/${pkg.dir}/agent.js`;
      const nodeAndAgent = `${shellQuote(facts.nodePath as string)} ${shellQuote(agentPath)}`;
      const command = facts.uid === 0 ? `exec ${nodeAndAgent}` : `exec sudo -n ${nodeAndAgent}`;
      log(`running: ${command}`);
      channel = await exec(connection, command);
    }
    const agentChannel = channel;
    const stderrTail: string[] = [];
    agentChannel.stderr.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n').filter(Boolean)) {
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        options.onStderr?.(line);
      }
    });
    const client = new AgentClient(agentChannel, {
      targetName: host.name,
      defaultTimeoutMs: options.requestTimeoutMs,
      closeReason: () => (stderrTail.length ? stderrTail.slice(-5).join(' ') : undefined),
      dispose: () => connection.close(),
    });
    client.closed.then(() => connection.close());
    agentChannel.resume();
    connection.client.on('close', () => agentChannel.destroy());
    try {
      await client.request('hello', {}, { timeoutMs: options.startTimeoutMs ?? 15_000 });
    } catch (err) {
      throw new AgentRequestError(`${host.name}: the agent did not start: ${(err as Error).message}`, (err as AgentRequestError).code ?? 'EAGENT');
    }
    timings.start = Date.now() - t;
    return { client, connection, facts, prerequisites, uploaded, timings };
  } catch (err) {
    connection.close();
    throw err;
  }
}
