// Checks an SSH host can run the agent, in one exec round trip: kernel with the BPF syscall, glibc, Node, libbpf, BTF, root
// or sudo, a supported CPU, which agent versions and runtimes are installed; starts an installed agent in the same exec.
import type { Client, ClientChannel } from 'ssh2';
import { AGENT_STARTING, DEFAULT_INSTALL_ROOT, launcherPath } from './agent-install';
import { NODE_RUNTIME_MIN_GLIBC } from './node-runtime';
import { shellQuote } from './shell-quote';

export interface HostFacts {
  uid: number;
  user: string;
  home: string;
  /** uname -m */
  machine: string;
  kernelRelease: string;
  nodePath?: string;
  nodeVersion?: string;
  /** The host's node binary and its folder are owned by root and writable by root only (so it may run as root). */
  nodeRootOwned: boolean;
  /** e.g. 2.36; undefined without glibc. */
  glibcVersion?: string;
  /** The real path of libbpf.so.1 (or of libbpf.so.0 when only that is there). */
  libbpfPath?: string;
  bpfSyscall: boolean;
  btf: boolean;
  sudoPresent: boolean;
  /** `sudo -n true` works (only asked when not root). */
  sudo: boolean;
  /** `sudo -n` may start the installed launcher (a sudoers rule naming it). */
  sudoLauncher: boolean;
  /** ID and VERSION_ID from /etc/os-release, for install hints. */
  osId: string;
  osVersion: string;
  musl: boolean;
  /** Agent version folders installed (root-owned) on the host, of the candidates asked about. */
  installedDirs: string[];
  /** Node runtime folders installed on the host. */
  runtimeInstalled: string[];
  /** The launcher's refusal (a file did not match its sha256), when it refused. */
  launchRefused?: string;
}

export interface PrerequisiteReport {
  ok: boolean;
  /** Each: what is missing and how to install it. */
  missing: string[];
  /** Not blocking, but limits what works. */
  warnings: string[];
}

export class RemoteCommandError extends Error {}

/** Runs one command over an exec channel (input, when given, is its whole stdin); resolves with stdout, stderr and exit code. */
export function execCommand(client: Client, command: string, timeoutMs = 15_000, input?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(new RemoteCommandError(`Cannot run a command on the host: ${err.message}`));
      if (input !== undefined) channel.end(input);
      let stdout = '';
      let stderr = '';
      let code = -1;
      const timer = setTimeout(() => {
        channel.close();
        reject(new RemoteCommandError(`The host did not finish \`${command.slice(0, 60)}\` within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      channel.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      channel.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      channel.on('exit', (c: number | null) => (code = c ?? -1));
      channel.on('close', () => {
        clearTimeout(timer);
        resolve({ stdout, stderr, code });
      });
    });
  });
}

/**
 * One shell script that reports the host's facts as key=value lines and, when the agent for its CPU is installed and
 * this login may start it (root, or `sudo -n` allows it), execs its launcher, which checks every file's sha256 and prints
 * AGENT_STARTING before the agent speaks: one round trip for a host that is ready.
 */
function probeScript(installRoot: string, dirsByMachine: Record<string, string>, runtimeDirsByMachine: Record<string, string>): string {
  const cases = Object.entries(dirsByMachine).map(([machine, dir]) => `${machine}) d=${shellQuote(dir)}; r=${shellQuote(runtimeDirsByMachine[machine] ?? 'none')};;`).join(' ');
  const safe = (v: string) => `[ "$(stat -L -c %u ${v} 2>/dev/null)" = 0 ] && case "$(stat -L -c %a ${v})" in *[2367]?|*[2367]) false;; *) true;; esac`;
  return [
    'echo "uid=$(id -u)"',
    'echo "user=$(id -un)"',
    'echo "home=$HOME"',
    'm=$(uname -m); echo "machine=$m"',
    'echo "release=$(uname -r)"',
    'n=$(command -v node || command -v nodejs || true); echo "node=$n"; v=; [ -n "$n" ] && v=$($n --version 2>/dev/null) && echo "nodeVersion=$v"',
    `[ -n "$n" ] && nr=$(readlink -f "$n") && ${safe('"$nr"')} && ${safe('"$(dirname "$nr")"')} && echo "nodeRootOwned=yes"`,
    'g=$(getconf GNU_LIBC_VERSION 2>/dev/null) && echo "glibc=${g#glibc }"',
    'for d in /lib /usr/lib /lib64 /usr/lib64 /usr/local/lib /lib/$m-linux-gnu /usr/lib/$m-linux-gnu; do for f in "$d"/libbpf.so.[01]; do [ -e "$f" ] && echo "libbpf=$(readlink -f "$f")"; done; done',
    '[ -e /proc/sys/kernel/unprivileged_bpf_disabled ] && echo "bpf=yes"',
    '[ -r /sys/kernel/btf/vmlinux ] && echo "btf=yes"',
    '. /etc/os-release 2>/dev/null; echo "os=${ID:-unknown}"; echo "osVersion=${VERSION_ID:-}"',
    'musl=; (ldd --version 2>&1 | grep -qi musl) && musl=yes && echo "musl=yes"',
    `d=; r=; case "$m" in ${cases} esac`,
    `R=${shellQuote(installRoot)}; L="$R/agent/$d/run-agent"`,
    `[ -n "$d" ] && [ -x "$L" ] && echo "installed=$d"`,
    `[ -n "$r" ] && [ -x "$R/runtime/$r/bin/node" ] && echo "runtimeInstalled=$r"`,
    'command -v sudo >/dev/null 2>&1 && echo "sudoPresent=yes"',
    'su=; [ "$(id -u)" != 0 ] && sudo -n true >/dev/null 2>&1 && su=yes && echo "sudo=yes"',
    'sl=; [ "$(id -u)" != 0 ] && [ -z "$su" ] && [ -x "$L" ] && sudo -n -l "$L" >/dev/null 2>&1 && sl=yes && echo "sudoLauncher=yes"',
    'if [ -n "$d" ] && [ -x "$L" ] && [ -e /proc/sys/kernel/unprivileged_bpf_disabled ]; then ' +
      'if [ "$(id -u)" = 0 ]; then exec "$L"; elif [ -n "$su$sl" ]; then exec sudo -n "$L"; fi; fi',
    'exit 0',
  ].join('\n');
}

function parseFacts(stdout: string, stderr: string): HostFacts {
  const facts = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    facts.set(key, [...(facts.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  const one = (k: string) => facts.get(k)?.[0] ?? '';
  const libbpf = (facts.get('libbpf') ?? []).sort((a, b) => (a.includes('.so.1') ? -1 : 0) - (b.includes('.so.1') ? -1 : 0));
  return {
    uid: Number(one('uid') || -1),
    user: one('user'),
    home: one('home'),
    machine: one('machine'),
    kernelRelease: one('release'),
    nodePath: one('node') || undefined,
    nodeVersion: one('nodeVersion') || undefined,
    nodeRootOwned: one('nodeRootOwned') === 'yes',
    glibcVersion: one('glibc') || undefined,
    libbpfPath: libbpf[0],
    bpfSyscall: one('bpf') === 'yes',
    btf: one('btf') === 'yes',
    sudoPresent: one('sudoPresent') === 'yes',
    sudo: one('sudo') === 'yes',
    sudoLauncher: one('sudoLauncher') === 'yes',
    osId: one('os') || 'unknown',
    osVersion: one('osVersion'),
    musl: one('musl') === 'yes',
    installedDirs: facts.get('installed') ?? [],
    runtimeInstalled: facts.get('runtimeInstalled') ?? [],
    launchRefused: stderr.split('\n').find((l) => l.startsWith('ebpf-studio:')),
  };
}

export interface ProbeOutcome {
  facts: HostFacts;
  /** Set when the installed agent was started: the channel now speaks the agent protocol (paused; resume to read). */
  agentChannel?: ClientChannel;
}

/**
 * Reads a launching channel until the launcher's AGENT_STARTING line (resolves with the channel paused, protocol bytes
 * put back) or until it closes (resolves without it). Stdout before the line and all stderr are handed back.
 */
export function awaitAgentStart(channel: ClientChannel, timeoutMs: number, what: string): Promise<{ started: boolean; stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let code: number | null = null;
    let done = false;
    const timer = setTimeout(() => finish(() => {
      channel.close();
      reject(new RemoteCommandError(`The host did not answer ${what} within ${timeoutMs / 1000} s.`));
    }), timeoutMs);
    const finish = (then: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      channel.off('data', onData);
      channel.off('close', onClose);
      channel.stderr.off('data', onStderr);
      then();
    };
    const onStderr = (chunk: Buffer) => (stderr += chunk.toString('utf8'));
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString('latin1');
      const at = stdout.indexOf(`${AGENT_STARTING}\n`);
      if (at < 0 || (at > 0 && stdout[at - 1] !== '\n')) return;
      finish(() => {
        channel.pause();
        const rest = Buffer.from(stdout.slice(at + AGENT_STARTING.length + 1), 'latin1');
        if (rest.length) channel.unshift(rest);
        resolve({ started: true, stdout: stdout.slice(0, at), stderr, code });
      });
    };
    const onClose = () => finish(() => resolve({ started: false, stdout, stderr, code }));
    channel.on('exit', (c: number | null) => (code = c));
    channel.on('data', onData);
    channel.stderr.on('data', onStderr);
    channel.on('close', onClose);
  });
}

/** Probes the host and, when it can, starts the installed agent in the same exec (see probeScript). */
export function probeAndLaunch(
  client: Client,
  installRoot: string,
  dirsByMachine: Record<string, string>,
  runtimeDirsByMachine: Record<string, string>,
  timeoutMs = 15_000,
): Promise<ProbeOutcome> {
  return new Promise((resolve, reject) => {
    client.exec(`sh -c ${shellQuote(probeScript(installRoot, dirsByMachine, runtimeDirsByMachine))}`, (err, channel) => {
      if (err) return reject(new RemoteCommandError(`Cannot run a command on the host: ${err.message}`));
      awaitAgentStart(channel, timeoutMs, 'the prerequisites check').then(
        (r) => resolve({ facts: parseFacts(r.stdout, r.stderr), ...(r.started ? { agentChannel: channel } : {}) }),
        reject,
      );
    });
  });
}

type Distro = 'apt' | 'dnf' | 'zypper' | 'pacman' | 'other';

function distro(osId: string): Distro {
  if (/debian|ubuntu|raspbian|linuxmint|pop/.test(osId)) return 'apt';
  if (/^(fedora|rhel|centos|rocky|almalinux|amzn|ol)$/.test(osId)) return 'dnf';
  if (/suse|^sles$/.test(osId)) return 'zypper';
  if (/arch|manjaro/.test(osId)) return 'pacman';
  return 'other';
}

/** What to install for libbpf ≥ 1.0 on this distribution and release, or where it is not packaged. */
export function libbpfAdvice(osId: string, osVersion: string): string {
  const v = Number(osVersion.split('.')[0]) + Number(`0.${osVersion.split('.')[1] ?? '0'}`);
  const old = (release: string) =>
    `${osId} ${osVersion} packages only libbpf 0.x; the agent needs libbpf 1.x (libbpf.so.1): upgrade to ${release}, or build libbpf ≥ 1.0 from its release sources (\`make -C src install\`) into /usr/local/lib`;
  switch (distro(osId)) {
    case 'apt':
      if (osId === 'debian' && v && v < 12) return old('Debian 12');
      if (osId === 'ubuntu' && v && v < 23.04) return old('Ubuntu 24.04');
      return '`sudo apt-get install libbpf1`';
    case 'dnf':
      if (/rhel|centos|rocky|almalinux|ol/.test(osId) && v && v < 9) return old(`${osId} 9`);
      if (osId === 'amzn' && v && v < 2023) return old('Amazon Linux 2023');
      return '`sudo dnf install libbpf`';
    case 'zypper':
      return '`sudo zypper install libbpf1`';
    case 'pacman':
      return '`sudo pacman -S libbpf`';
    default:
      return "your distribution's libbpf 1.x package (apt: libbpf1, dnf: libbpf, zypper: libbpf1)";
  }
}

function versionBelow(version: string, minimum: string): boolean {
  const [a, b] = version.split('.').map(Number);
  const [x, y] = minimum.split('.').map(Number);
  return a < x || (a === x && (b ?? 0) < y);
}

/** The host's own Node can run the agent as root: ≥ 18, and not replaceable by a non-root user. */
export function hostNodeSuitable(facts: HostFacts): boolean {
  const major = Number(/^v?(\d+)/.exec(facts.nodeVersion ?? '')?.[1] ?? 0);
  return Boolean(facts.nodePath) && major >= 18 && facts.nodeRootOwned;
}

export type Privilege = 'root' | 'sudo' | 'sudo-launcher' | 'sudo-password' | 'none';

/** How this login becomes root for the agent. */
export function privilegeOf(facts: HostFacts, agentDir: string | undefined): Privilege {
  if (facts.uid === 0) return 'root';
  if (facts.sudo) return 'sudo';
  if (facts.sudoLauncher && agentDir && facts.installedDirs.includes(agentDir)) return 'sudo-launcher';
  return facts.sudoPresent ? 'sudo-password' : 'none';
}

/** The sudoers line that lets `user` start installed agents, and only them, without a password. */
export function sudoersAdvice(user: string, installRoot = DEFAULT_INSTALL_ROOT): string {
  return `\`${user} ALL=(root) NOPASSWD: ${launcherPath(installRoot, '*')}\` in /etc/sudoers.d/ebpf-studio (it names only the root-owned launcher, which checks the agent's sha256 before each start; the first install still needs root once)`;
}

/** Loading BPF programs needs root or these capabilities; said where neither root nor sudo works. */
export const CAPABILITY_NOTE =
  'Without root, a kernel ≥ 5.8 also loads programs for a process holding CAP_BPF with CAP_PERFMON (tracing: kprobes, tracepoints, perf events) and CAP_NET_ADMIN (XDP, tc); ' +
  'eBPF Studio starts its agent as root through sudo, so grant sudo rather than capabilities on a shared Node binary';

/** What stops the agent from running on this host, each with how to fix it. */
export function checkPrerequisites(facts: HostFacts, supportedMachines: string[], installRoot = DEFAULT_INSTALL_ROOT): PrerequisiteReport {
  const missing: string[] = [];
  const warnings: string[] = [];
  if (!facts.bpfSyscall) missing.push(`The kernel ${facts.kernelRelease} has no BPF syscall (CONFIG_BPF_SYSCALL is off); boot a kernel built with it.`);
  if (!facts.libbpfPath) missing.push(`libbpf.so.1 is not installed: ${libbpfAdvice(facts.osId, facts.osVersion)}.`);
  else if (!/\.so\.1(\.|$)/.test(facts.libbpfPath)) missing.push(`Only ${facts.libbpfPath} (libbpf 0.x) is installed: ${libbpfAdvice(facts.osId, facts.osVersion)}.`);
  if (!supportedMachines.includes(facts.machine) || facts.musl) {
    missing.push(`The agent ships for ${supportedMachines.join(' and ')} with glibc; this host is ${facts.machine}${facts.musl ? ' with musl' : ''}.`);
  } else if (!hostNodeSuitable(facts) && facts.glibcVersion && versionBelow(facts.glibcVersion, NODE_RUNTIME_MIN_GLIBC)) {
    missing.push(`The Node.js runtime eBPF Studio brings needs glibc ≥ ${NODE_RUNTIME_MIN_GLIBC}; this host has glibc ${facts.glibcVersion}: install Node.js ≥ 18 there (root-owned, e.g. from the distribution).`);
  }
  if (privilegeOf(facts, undefined) === 'none') {
    missing.push(`User ${facts.user} is not root and the host has no sudo; loading BPF programs needs root. Connect as root, or install sudo and allow ${sudoersAdvice(facts.user, installRoot)}. ${CAPABILITY_NOTE}.`);
  }
  if (facts.nodePath && !hostNodeSuitable(facts)) warnings.push(`${facts.nodePath} (${facts.nodeVersion ?? 'unknown version'}) is ${facts.nodeRootOwned ? 'older than Node 18' : 'not owned by root'}; the agent runs on the Node.js runtime eBPF Studio brings instead.`);
  if (!facts.btf) warnings.push(`The kernel has no BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF): CO-RE probes that include vmlinux.h cannot be relocated there; tp_btf and fentry are unavailable.`);
  return { ok: missing.length === 0, missing, warnings };
}
