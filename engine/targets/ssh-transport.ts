// Starts the agent on an SSH host and returns an AgentClient over the exec channel: connect (ssh-connection), check the
// host, upload the agent (and the Node runtime when the host has none) once per version, install it root-owned, run its launcher.
import type { Client, ClientChannel } from 'ssh2';
import { AgentClient, AgentRequestError } from './agent-client';
import { DEFAULT_INSTALL_ROOT, installScript, LAUNCHER_REFUSED, launcherPath, type InstallPlan } from './agent-install';
import { agentPackage, removeStaging, stageFiles, supportedMachines, type StagedFile } from './agent-upload';
import { awaitAgentStart, checkPrerequisites, execCommand, hostNodeSuitable, privilegeOf, probeAndLaunch, sudoersAdvice, type HostFacts, type Privilege, type PrerequisiteReport } from './host-prerequisites';
import { findAgentBundle } from './local-transport';
import { nodeRuntime, runtimeDirName, type NodeRuntimeOptions } from './node-runtime';
import { shellQuote } from './shell-quote';
import { askSudoPassword, SUDO_STDIN_PASSWORD } from './sudo-password';
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
  /** Root-owned folder the agent is installed into on the host; default /var/lib/ebpf-studio. */
  installRoot?: string;
  /** Where the Node runtime for hosts without Node comes from (cache folder, a local tarball). */
  runtime?: NodeRuntimeOptions;
}

export interface SshAgent {
  client: AgentClient;
  connection: SshConnection;
  facts: HostFacts;
  prerequisites: PrerequisiteReport;
  /** Whether this connect uploaded and installed the agent (false: it was installed on the host). */
  uploaded: boolean;
  /** Whether this connect uploaded the Node runtime. */
  runtimeUploaded: boolean;
  privilege: Privilege;
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

/** Install roots are written into shell scripts and sudoers rules: absolute, plain characters only. */
function checkInstallRoot(root: string): string {
  if (!/^\/[A-Za-z0-9._/-]*$/.test(root) || root.split('/').includes('..')) throw new Error(`The agent install folder "${root}" must be an absolute path of letters, digits, . _ - and /.`);
  return root.replace(/\/+$/, '') || '/';
}

function exec(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => client.exec(command, (err, channel) => (err ? reject(new Error(`cannot start the agent: ${err.message}`)) : resolve(channel))));
}

/** Asks for the login's sudo password (see askSudoPassword); never stored. */
async function sudoPassword(connection: SshConnection, options: SshAgentOptions, installRoot: string): Promise<string> {
  const { host } = connection;
  if (!options.prompts.sudoPassword) {
    throw new PrerequisiteError(host.name, {
      ok: false,
      missing: [`User ${host.user} is not root and sudo asks for a password, with no way to ask for it here. Connect as root, run interactively, or allow ${sudoersAdvice(host.user, installRoot)}.`],
      warnings: [],
    });
  }
  const check = (input: string) => execCommand(connection.client, `${SUDO_STDIN_PASSWORD.map(shellQuote).join(' ')} true`, 15_000, input);
  return askSudoPassword(options.prompts.sudoPassword, { target: host.name, user: host.user }, check, `Loading BPF programs needs root: connect as root or allow ${sudoersAdvice(host.user, installRoot)}.`);
}

/** The prefix that runs a command as root for this login (the password, when used, is the first line of stdin). */
function asRoot(privilege: Privilege): string {
  if (privilege === 'root') return '';
  return `${(privilege === 'sudo-password' ? SUDO_STDIN_PASSWORD : ['sudo', '-n']).map(shellQuote).join(' ')} `;
}

export async function connectSshAgent(host: SshHost, options: SshAgentOptions): Promise<SshAgent> {
  const log = options.log ?? (() => undefined);
  const bundle = options.agentBundle ?? findAgentBundle();
  const installRoot = checkInstallRoot(options.installRoot ?? DEFAULT_INSTALL_ROOT);
  const machines = supportedMachines(bundle);
  const dirsByMachine = Object.fromEntries(machines.map((m) => [m, agentPackage(bundle, m)?.dir as string]));
  const runtimeDirsByMachine = Object.fromEntries(machines.map((m) => [m, runtimeDirName(m)]));
  const timings = { connect: 0, probe: 0, upload: 0, start: 0 };
  let t = Date.now();
  const connection = await openSsh(host, options);
  timings.connect = Date.now() - t;
  try {
    t = Date.now();
    const probe = await probeAndLaunch(connection.client, installRoot, dirsByMachine, runtimeDirsByMachine);
    const facts = probe.facts;
    timings.probe = Date.now() - t;
    log(
      `host: ${facts.machine}, Linux ${facts.kernelRelease}, glibc ${facts.glibcVersion ?? 'none'}, node ${facts.nodeVersion ?? 'missing'}, libbpf ${facts.libbpfPath ?? 'missing'}, ` +
        `BTF ${facts.btf ? 'yes' : 'no'}, uid ${facts.uid}${facts.uid ? `, sudo ${facts.sudo ? 'without password' : facts.sudoLauncher ? 'for the launcher' : facts.sudoPresent ? 'with password' : 'missing'}` : ''}`,
    );
    const prerequisites = checkPrerequisites(facts, machines, installRoot);
    for (const w of prerequisites.warnings) log(`warning: ${w}`);
    if (facts.launchRefused) log(`the installed agent was refused by its launcher (${facts.launchRefused}); installing it again`);
    let channel = probe.agentChannel;
    if (channel) log(`agent ${dirsByMachine[facts.machine]} installed on the host, sha256 checked; started it`);
    if (!prerequisites.ok) {
      channel?.close();
      throw new PrerequisiteError(host.name, prerequisites);
    }
    const pkg = agentPackage(bundle, facts.machine);
    if (!pkg) throw new PrerequisiteError(host.name, { ok: false, missing: [`No agent build for ${facts.machine}.`], warnings: [] });
    const installed = facts.installedDirs.includes(pkg.dir) && !facts.launchRefused;
    const privilege = privilegeOf(facts, installed ? pkg.dir : undefined);
    const password = !channel && privilege === 'sudo-password' ? await sudoPassword(connection, options, installRoot) : undefined;

    t = Date.now();
    let uploaded = false;
    let runtimeUploaded = false;
    const install = async (): Promise<void> => {
      const useHostNode = hostNodeSuitable(facts);
      const runtimeDir = runtimeDirsByMachine[facts.machine];
      const needRuntime = !useHostNode && !facts.runtimeInstalled.includes(runtimeDir);
      const runtime = needRuntime ? await nodeRuntime(facts.machine, { ...options.runtime, log }) : undefined;
      const files: StagedFile[] = [...pkg.files, ...(runtime ? [{ remote: 'node-runtime.tgz', bytes: runtime.tarball }] : [])];
      const staging = await stageFiles(connection.client, files, log);
      const plan: InstallPlan = {
        installRoot,
        dir: pkg.dir,
        files: pkg.files,
        staging,
        removeStaging: true,
        ...(useHostNode ? { nodePath: facts.nodePath } : { runtime: { dir: runtimeDir, sha256: runtime?.sha256 ?? '', ...(runtime ? { tarball: 'node-runtime.tgz' } : {}) } }),
      };
      log(`installing agent ${pkg.dir} into ${installRoot} as root${useHostNode ? ` (runs on ${facts.nodePath})` : ` (runs on the Node.js runtime ${runtimeDir}${runtime ? ', uploaded' : ', already there'})`}`);
      const install = await execCommand(connection.client, `${asRoot(privilege)}sh -c ${shellQuote(installScript(plan))}`, 120_000, password === undefined ? undefined : `${password}\n`);
      if (install.code !== 0) {
        await removeStaging(connection.client, staging);
        throw new AgentRequestError(`${host.name}: installing the agent failed: ${install.stderr.trim() || `exit code ${install.code}`}`, 'EINSTALL');
      }
      uploaded = true;
      runtimeUploaded = Boolean(runtime);
      timings.upload = Date.now() - t;
      t = Date.now();
    };
    const run = async (prefix: string, firstLine?: string) => {
      const command = `exec ${prefix}${launcherPath(installRoot, pkg.dir)}`;
      log(`running: ${command}`);
      const started = await exec(connection.client, command);
      if (firstLine !== undefined) started.write(firstLine);
      return { started, outcome: await awaitAgentStart(started, options.startTimeoutMs ?? 15_000, 'the agent launcher') };
    };
    const launch = async () => {
      if (password === undefined) return run(asRoot(privilege));
      // A NOPASSWD rule for the launcher lets sudo start it without reading stdin: the password line would reach the agent.
      const quiet = await run('sudo -n ');
      if (quiet.outcome.started || !/a password is required/.test(quiet.outcome.stderr)) return quiet;
      return run(asRoot(privilege), `${password}\n`);
    };
    if (!channel && !installed) await install();
    if (!channel) {
      let attempt = await launch();
      // Only a password-sudo login finds a refused install here (with sudo -n or root the probe already ran the launcher).
      if (!attempt.outcome.started && attempt.outcome.code === LAUNCHER_REFUSED && !uploaded) {
        log(`the installed agent was refused by its launcher (${attempt.outcome.stderr.trim()}); installing it again`);
        await install();
        attempt = await launch();
      }
      const { started, outcome } = attempt;
      if (!outcome.started) throw new AgentRequestError(`${host.name}: the agent launcher did not start the agent: ${outcome.stderr.trim() || `exit code ${outcome.code}`}`, 'EAGENT');
      channel = started;
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
    return { client, connection, facts, prerequisites, uploaded, runtimeUploaded, privilege, timings };
  } catch (err) {
    connection.close();
    throw err;
  }
}
