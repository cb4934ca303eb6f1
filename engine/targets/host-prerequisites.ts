// Checks an SSH host can run the agent, in one exec round trip: kernel with the BPF syscall, Node ≥ 18,
// libbpf.so.1, BTF, root or passwordless sudo, a supported CPU, and whether this agent version is cached there.
import type { Client, ClientChannel } from 'ssh2';

export interface HostFacts {
  uid: number;
  user: string;
  home: string;
  /** uname -m */
  machine: string;
  kernelRelease: string;
  nodePath?: string;
  nodeVersion?: string;
  libbpfPath?: string;
  bpfSyscall: boolean;
  btf: boolean;
  /** `sudo -n true` works (only asked when not root). */
  sudo: boolean;
  /** ID from /etc/os-release, for install hints. */
  osId: string;
  musl: boolean;
  /** The cached agent folders (of the candidates asked about) that are complete on the host. */
  cachedDirs: string[];
}

export interface PrerequisiteReport {
  ok: boolean;
  /** Each: what is missing and how to install it. */
  missing: string[];
  /** Not blocking, but limits what works. */
  warnings: string[];
}

export class RemoteCommandError extends Error {}

/** Runs one command over an exec channel; resolves with stdout, rejects with stderr and exit code. */
export function execCommand(client: Client, command: string, timeoutMs = 15_000): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(new RemoteCommandError(`Cannot run a command on the host: ${err.message}`));
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

/** Single-quotes a value for POSIX sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The line the launcher prints right before it execs the agent; what follows on stdout is the agent's protocol. */
export const AGENT_STARTING = 'ebpf-studio-agent-starting';

/**
 * One shell script that reports the host's facts as key=value lines and, when the agent for its CPU is already
 * cached and can run, prints AGENT_STARTING and execs it (through `sudo -n` when not root): one round trip.
 */
function probeScript(cacheRoot: string, dirsByMachine: Record<string, string>): string {
  const cases = Object.entries(dirsByMachine).map(([machine, dir]) => `${machine}) d=${shellQuote(dir)};;`).join(' ');
  const checks = [...new Set(Object.values(dirsByMachine))].map((d) => `[ -f "${cacheRoot}/${d}/.complete" ] && echo "cached=${d}"`).join('; ');
  return [
    'echo "uid=$(id -u)"',
    'echo "user=$(id -un)"',
    'echo "home=$HOME"',
    'm=$(uname -m); echo "machine=$m"',
    'echo "release=$(uname -r)"',
    'n=$(command -v node || command -v nodejs || true); echo "node=$n"; v=; [ -n "$n" ] && v=$($n --version 2>/dev/null) && echo "nodeVersion=$v"',
    'lib=; for d in /lib /usr/lib /lib64 /usr/lib64 /usr/local/lib /lib/$m-linux-gnu /usr/lib/$m-linux-gnu; do [ -e "$d/libbpf.so.1" ] && { lib=$d/libbpf.so.1; echo "libbpf=$lib"; break; }; done',
    '[ -e /proc/sys/kernel/unprivileged_bpf_disabled ] && echo "bpf=yes"',
    '[ -r /sys/kernel/btf/vmlinux ] && echo "btf=yes"',
    'sudo=; [ "$(id -u)" != 0 ] && sudo -n true >/dev/null 2>&1 && sudo=yes && echo "sudo=yes"',
    '. /etc/os-release 2>/dev/null; echo "os=${ID:-unknown}"',
    'musl=; (ldd --version 2>&1 | grep -qi musl) && musl=yes && echo "musl=yes"',
    checks || 'true',
    `d=; case "$m" in ${cases} esac`,
    'maj=${v#v}; maj=${maj%%.*}',
    `if [ -n "$d" ] && [ -z "$musl" ] && [ -f "${cacheRoot}/$d/.complete" ] && [ -n "$lib" ] && [ -e /proc/sys/kernel/unprivileged_bpf_disabled ] && [ "\${maj:-0}" -ge 18 ] 2>/dev/null; then ` +
      `if [ "$(id -u)" = 0 ]; then echo ${AGENT_STARTING}; exec "$n" "${cacheRoot}/$d/agent.js"; ` +
      `elif [ -n "$sudo" ]; then echo ${AGENT_STARTING}; exec sudo -n "$n" "${cacheRoot}/$d/agent.js"; fi; fi`,
    'exit 0',
  ].join('; ');
}

function parseFacts(stdout: string): HostFacts {
  const facts = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    facts.set(key, [...(facts.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  const one = (k: string) => facts.get(k)?.[0] ?? '';
  return {
    uid: Number(one('uid') || -1),
    user: one('user'),
    home: one('home'),
    machine: one('machine'),
    kernelRelease: one('release'),
    nodePath: one('node') || undefined,
    nodeVersion: one('nodeVersion') || undefined,
    libbpfPath: one('libbpf') || undefined,
    bpfSyscall: one('bpf') === 'yes',
    btf: one('btf') === 'yes',
    sudo: one('sudo') === 'yes',
    osId: one('os') || 'unknown',
    musl: one('musl') === 'yes',
    cachedDirs: facts.get('cached') ?? [],
  };
}

export interface ProbeOutcome {
  facts: HostFacts;
  /** Set when the cached agent was started: the channel now speaks the agent protocol (paused; resume to read). */
  agentChannel?: ClientChannel;
}

/** Probes the host and, when it can, starts the cached agent in the same exec (see probeScript). */
export function probeAndLaunch(client: Client, cacheRoot: string, dirsByMachine: Record<string, string>, timeoutMs = 15_000): Promise<ProbeOutcome> {
  return new Promise((resolve, reject) => {
    client.exec(`sh -c ${shellQuote(probeScript(cacheRoot, dirsByMachine))}`, (err, channel) => {
      if (err) return reject(new RemoteCommandError(`Cannot run a command on the host: ${err.message}`));
      let stdout = '';
      let done = false;
      const timer = setTimeout(() => finish(() => {
        channel.close();
        reject(new RemoteCommandError(`The host did not answer the prerequisites check within ${timeoutMs / 1000} s.`));
      }), timeoutMs);
      const finish = (then: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        channel.off('data', onData);
        channel.off('close', onClose);
        then();
      };
      const onData = (chunk: Buffer) => {
        stdout += chunk.toString('latin1');
        const at = stdout.indexOf(`\n${AGENT_STARTING}\n`);
        if (at < 0) return;
        finish(() => {
          channel.pause();
          const rest = Buffer.from(stdout.slice(at + AGENT_STARTING.length + 2), 'latin1');
          if (rest.length) channel.unshift(rest);
          resolve({ facts: parseFacts(stdout.slice(0, at)), agentChannel: channel });
        });
      };
      const onClose = () => finish(() => resolve({ facts: parseFacts(stdout) }));
      channel.on('data', onData);
      channel.on('close', onClose);
    });
  });
}

function installHint(osId: string, debian: string, fedora: string): string {
  if (/debian|ubuntu|raspbian|linuxmint|pop/.test(osId)) return `\`sudo apt-get install ${debian}\``;
  if (/fedora|rhel|centos|rocky|almalinux|amzn/.test(osId)) return `\`sudo dnf install ${fedora}\``;
  return `your distribution's ${debian} package (apt: ${debian}, dnf: ${fedora})`;
}

/** What stops the agent from running on this host, each with how to fix it. */
export function checkPrerequisites(facts: HostFacts, supportedMachines: string[]): PrerequisiteReport {
  const missing: string[] = [];
  const warnings: string[] = [];
  if (!facts.bpfSyscall) missing.push(`The kernel ${facts.kernelRelease} has no BPF syscall (CONFIG_BPF_SYSCALL is off); boot a kernel built with it.`);
  const major = Number(/^v?(\d+)/.exec(facts.nodeVersion ?? '')?.[1] ?? 0);
  if (!facts.nodePath) missing.push(`Node.js is not installed (the agent needs Node ≥ 18 on PATH): ${installHint(facts.osId, 'nodejs', 'nodejs')}.`);
  else if (major < 18) missing.push(`Node.js ${facts.nodeVersion ?? '(unknown version)'} at ${facts.nodePath} is too old; the agent needs Node ≥ 18: upgrade it, e.g. from NodeSource.`);
  if (!facts.libbpfPath) missing.push(`libbpf.so.1 is not installed: ${installHint(facts.osId, 'libbpf1', 'libbpf')}.`);
  if (!supportedMachines.includes(facts.machine) || facts.musl) {
    missing.push(`The agent ships for ${supportedMachines.join(' and ')} with glibc; this host is ${facts.machine}${facts.musl ? ' with musl' : ''}.`);
  }
  if (facts.uid !== 0 && !facts.sudo) {
    missing.push(
      `User ${facts.user} is not root and \`sudo -n\` asks for a password; loading BPF programs needs root. Connect as root, or allow the agent without a password, ` +
        `e.g. in /etc/sudoers.d/ebpf-studio: \`${facts.user} ALL=(root) NOPASSWD: ${facts.nodePath ?? '/usr/bin/node'} ${facts.home}/.cache/ebpf-studio/agent/*/agent.js\`.`,
    );
  }
  if (!facts.btf) warnings.push(`The kernel has no BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF): CO-RE probes that include vmlinux.h cannot be relocated there; tp_btf and fentry are unavailable.`);
  return { ok: missing.length === 0, missing, warnings };
}
