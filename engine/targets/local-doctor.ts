// The local doctor: checks this machine for what compiling, verifying and running probes needs (kernel, BTF, bpffs,
// tracefs, kprobes, lockdown, unprivileged BPF, root/capabilities/sudo, clang, libbpf), each missing thing with the
// exact command that fixes it. Reads /proc, /sys, statfs(2); runs `clang --version`, `sudo -n true`/`-l`/`-v`; changes nothing.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { DEFAULT_INSTALL_ROOT, launcherPath } from './agent-install';
import { BPFFS_DIR, isMounted, mountCommand } from './kernel-filesystems';
import { findClang } from '../toolchain/find-clang';

/** ok: ready; missing: something that stops a part of the product, with a fix; limited: works, with less. */
export type CheckStatus = 'ok' | 'missing' | 'limited';

export interface DoctorCheck {
  /** What was checked, e.g. "bpffs". */
  name: string;
  status: CheckStatus;
  /** What was found, in one sentence. */
  detail: string;
  /** The exact command (or action, when no command can do it) that fixes a missing or limited check. */
  fix?: string;
}

const TRACEFS_DIR = '/sys/kernel/tracing';
const SECURITYFS_DIR = '/sys/kernel/security';
/** Capability bits (linux/capability.h) that let a non-root user load and attach BPF programs. */
const CAP = { sys_admin: 21, perfmon: 38, bpf: 39 } as const;
const LIB_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib'];

export interface DoctorOptions {
  /** The ebpfStudio.clangPath setting or --clang ('' = search PATH). */
  clangPath?: string;
  /** The root-owned folder agents are installed into (EBPF_STUDIO_INSTALL_ROOT for the CLI); default /var/lib/ebpf-studio. */
  installRoot?: string;
  /** Read a file (tests pass a fake /proc and /sys); default readFileSync. */
  readText?: (path: string) => string | undefined;
}

/** Prefixes `sudo` when this process is not root, so each fix can be pasted as it is. */
function asRoot(command: string): string {
  return process.getuid?.() === 0 ? command : `sudo ${command}`;
}

function readTextFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function aptOrDnf(debian: string, fedora: string): string {
  const id = /^ID=(.*)$/m.exec(readTextFile('/etc/os-release') ?? '')?.[1]?.replace(/"/g, '') ?? '';
  if (/fedora|rhel|centos|rocky|almalinux|amzn/.test(id)) return asRoot(`dnf install -y ${fedora}`);
  return asRoot(`apt-get install -y ${debian}`);
}

function kernelCheck(read: (path: string) => string | undefined): DoctorCheck {
  const release = os.release();
  if (read('/proc/sys/kernel/unprivileged_bpf_disabled') === undefined) {
    return { name: 'kernel', status: 'missing', detail: `Linux ${release} has no BPF syscall (CONFIG_BPF_SYSCALL is off).`, fix: 'Boot a kernel built with CONFIG_BPF_SYSCALL=y.' };
  }
  return { name: 'kernel', status: 'ok', detail: `Linux ${release} (${os.machine()}) with the BPF syscall.` };
}

function btfCheck(): DoctorCheck {
  if (existsSync('/sys/kernel/btf/vmlinux')) return { name: 'BTF', status: 'ok', detail: 'Kernel BTF at /sys/kernel/btf/vmlinux: vmlinux.h, CO-RE, tp_btf and fentry work.' };
  return {
    name: 'BTF',
    status: 'limited',
    detail: 'No kernel BTF (/sys/kernel/btf/vmlinux): probes that include vmlinux.h cannot be compiled or relocated; tp_btf and fentry are unavailable.',
    fix: 'Boot a kernel built with CONFIG_DEBUG_INFO_BTF=y, or put a vmlinux.h for this kernel on the include path.',
  };
}

function bpffsCheck(): DoctorCheck {
  if (isMounted('bpf', BPFFS_DIR)) return { name: 'bpffs', status: 'ok', detail: `bpffs is mounted at ${BPFFS_DIR}.` };
  return {
    name: 'bpffs',
    status: 'missing',
    detail: `bpffs is not mounted at ${BPFFS_DIR}: pinned maps (maps dump --pinned, LIBBPF_PIN_BY_NAME) cannot be created or read.`,
    fix: asRoot(mountCommand('bpf', BPFFS_DIR)),
  };
}

function tracefsCheck(): DoctorCheck {
  if (isMounted('tracefs', TRACEFS_DIR)) return { name: 'tracefs', status: 'ok', detail: `tracefs is mounted at ${TRACEFS_DIR}.` };
  if (existsSync('/sys/kernel/debug/tracing/available_events')) return { name: 'tracefs', status: 'ok', detail: 'tracefs is reachable through debugfs at /sys/kernel/debug/tracing.' };
  return {
    name: 'tracefs',
    status: 'missing',
    detail: `tracefs is not mounted at ${TRACEFS_DIR}: tracepoint, kprobe and uprobe programs cannot attach, and attach points cannot be listed.`,
    fix: asRoot(mountCommand('tracefs', TRACEFS_DIR)),
  };
}

function kprobesCheck(): DoctorCheck {
  const tracefs = [TRACEFS_DIR, '/sys/kernel/debug/tracing'].find((dir) => existsSync(`${dir}/available_events`));
  if (!tracefs && isMounted('tracefs', TRACEFS_DIR)) {
    // tracefs is mode 0700: a user (even one with sudo) cannot look; the agent, run as root, can
    return { name: 'kprobes', status: 'limited', detail: `Unknown to this user: tracefs at ${TRACEFS_DIR} is readable by root only.`, fix: `${asRoot(`ls ${TRACEFS_DIR}/kprobe_events`)} (present: kprobes work)` };
  }
  if (!tracefs) return { name: 'kprobes', status: 'limited', detail: 'Unknown until tracefs is mounted (see tracefs).', fix: asRoot(mountCommand('tracefs', TRACEFS_DIR)) };
  if (existsSync(`${tracefs}/kprobe_events`)) return { name: 'kprobes', status: 'ok', detail: 'kprobes are available (tracefs has kprobe_events).' };
  return {
    name: 'kprobes',
    status: 'limited',
    detail: 'This kernel was built without CONFIG_KPROBES: kprobe programs verify and load but cannot attach.',
    fix: 'Use tracepoint, tp_btf or raw_tp programs for the same events, or boot a kernel built with CONFIG_KPROBES=y.',
  };
}

function lockdownCheck(read: (path: string) => string | undefined): DoctorCheck {
  const text = read(`${SECURITYFS_DIR}/lockdown`);
  if (text === undefined) {
    if (!isMounted('securityfs', SECURITYFS_DIR)) {
      return { name: 'lockdown', status: 'limited', detail: `Unknown: securityfs is not mounted at ${SECURITYFS_DIR}, so refusals caused by lockdown cannot be explained.`, fix: asRoot(mountCommand('securityfs', SECURITYFS_DIR)) };
    }
    return { name: 'lockdown', status: 'ok', detail: 'This kernel has no lockdown LSM.' };
  }
  const mode = /\[(\w+)\]/.exec(text)?.[1] ?? 'unknown';
  if (mode === 'none') return { name: 'lockdown', status: 'ok', detail: 'Kernel lockdown is off.' };
  return {
    name: 'lockdown',
    status: 'limited',
    detail: `Kernel lockdown is "${mode}": fentry, fexit, fmod_ret and LSM programs are refused before verification (EPERM).`,
    fix: 'Use tp_btf or raw_tp programs instead, or boot with lockdown=none (and Secure Boot off) where you control the machine.',
  };
}

function effectiveCapabilities(read: (path: string) => string | undefined): bigint {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(read('/proc/self/status') ?? '')?.[1];
  return hex ? BigInt(`0x${hex}`) : 0n;
}

async function privilegeChecks(read: (path: string) => string | undefined, installRoot: string): Promise<DoctorCheck[]> {
  const unprivileged = read('/proc/sys/kernel/unprivileged_bpf_disabled')?.trim();
  const unprivilegedCheck: DoctorCheck =
    unprivileged === '0'
      ? { name: 'unprivileged BPF', status: 'ok', detail: 'kernel.unprivileged_bpf_disabled is 0: users may load socket filters; everything else still needs privileges.' }
      : { name: 'unprivileged BPF', status: 'ok', detail: `kernel.unprivileged_bpf_disabled is ${unprivileged ?? 'unknown'}: only root (or CAP_BPF) loads BPF programs, as the agent does.` };
  if (process.getuid?.() === 0) return [unprivilegedCheck, { name: 'privileges', status: 'ok', detail: 'Running as root: the agent loads and attaches programs itself.' }];
  const caps = effectiveCapabilities(read);
  const has = (bit: number) => (caps >> BigInt(bit)) & 1n;
  if (has(CAP.sys_admin) || (has(CAP.bpf) && has(CAP.perfmon))) {
    return [unprivilegedCheck, { name: 'privileges', status: 'ok', detail: `Not root, but with ${has(CAP.sys_admin) ? 'CAP_SYS_ADMIN' : 'CAP_BPF and CAP_PERFMON'}: the agent can load and attach programs.` }];
  }
  const sudoAllows = (...command: string[]) => promisify(execFile)('sudo', ['-n', ...command], { timeout: 10_000 }).then(() => true, () => false);
  if (await sudoAllows('true')) return [unprivilegedCheck, { name: 'privileges', status: 'ok', detail: 'Not root; `sudo -n` works, so the agent runs through sudo.' }];
  // the rule the local transport's own advice gives: only the root-owned launcher of an installed agent, without a password
  for (const launcher of installedLaunchers(installRoot)) {
    if (await sudoAllows('-l', launcher)) {
      return [unprivilegedCheck, { name: 'privileges', status: 'ok', detail: `Not root; \`sudo -n\` may start the installed agent's launcher (${launcher}), so the agent runs through it. Installing another agent version needs root once.` }];
    }
  }
  const user = os.userInfo().username;
  const allowLauncher = `echo '${user} ALL=(root) NOPASSWD: ${launcherPath(installRoot, '*')}' | sudo tee /etc/sudoers.d/ebpf-studio >/dev/null && sudo chmod 0440 /etc/sudoers.d/ebpf-studio`;
  // sudo's own words tell a user it would let in with a password from one it refuses outright
  const validate = await promisify(execFile)('sudo', ['-n', '-v'], { timeout: 10_000 }).then(() => '', (e: { stderr?: string }) => e.stderr ?? '');
  if (/a password is required/.test(validate)) {
    return [
      unprivilegedCheck,
      {
        name: 'privileges',
        status: 'limited',
        detail: `User ${user} is not root and sudo asks for a password: eBPF Studio asks for it (the CLI on the terminal, hidden; the editor in a password box) whenever it starts or installs the agent, feeds it to sudo on stdin and never stores it.`,
        fix: `Type your sudo password when asked, or let sudo start the root-owned agent launcher without one (it checks the agent's sha256 before each start; a new agent version still asks once): ${allowLauncher}`,
      },
    ];
  }
  return [
    unprivilegedCheck,
    {
      name: 'privileges',
      status: 'missing',
      detail: `User ${user} is not root, has neither CAP_BPF+CAP_PERFMON nor CAP_SYS_ADMIN, and \`sudo -n\` may start neither a command nor an installed agent launcher: verify and attach cannot load programs. The fix lets sudo start the root-owned launcher, which checks the agent's sha256 before each start; installing an agent version into ${installRoot} needs root once.`,
      fix: allowLauncher,
    },
  ];
}

/** The launchers of the agent versions installed under `installRoot`. */
function installedLaunchers(installRoot: string): string[] {
  try {
    return readdirSync(`${installRoot}/agent`).map((dir) => launcherPath(installRoot, dir)).filter((launcher) => existsSync(launcher));
  } catch {
    return [];
  }
}

async function clangCheck(clangPath: string): Promise<DoctorCheck> {
  try {
    const clang = await findClang(clangPath);
    const major = Number(clang.version.split('.')[0]);
    if (major < 14) return { name: 'clang', status: 'limited', detail: `clang ${clang.version} at ${clang.path} is older than 14: BTF-typed maps and CO-RE need a newer one.`, fix: aptOrDnf('clang-19', 'clang') };
    return { name: 'clang', status: 'ok', detail: `clang ${clang.version} at ${clang.path}.` };
  } catch (e) {
    return { name: 'clang', status: 'missing', detail: (e as Error).message.split('. ')[0] + '.', fix: aptOrDnf('clang-19', 'clang') };
  }
}

/** libbpf.so.1 as the agent's loader finds it, with the version its file name carries (libbpf.so.1.1.2 → 1.1.2). */
function libbpfCheck(): DoctorCheck {
  const machineDirs = LIB_DIRS.flatMap((dir) => {
    try {
      return readdirSync(dir).filter((name) => name.endsWith('-linux-gnu')).map((name) => `${dir}/${name}`);
    } catch {
      return [];
    }
  });
  for (const dir of [...machineDirs, ...LIB_DIRS]) {
    const path = `${dir}/libbpf.so.1`;
    if (!existsSync(path)) continue;
    const version = /libbpf\.so\.(\d+\.\d+\.\d+)$/.exec(realpathSync(path))?.[1];
    return { name: 'libbpf', status: 'ok', detail: `libbpf ${version ?? '1.x'} at ${path}.` };
  }
  return { name: 'libbpf', status: 'missing', detail: 'libbpf.so.1 is not installed: the agent cannot load programs.', fix: aptOrDnf('libbpf1', 'libbpf') };
}

/** Every check, in the order a person fixes them: kernel first, toolchain last. */
export async function checkThisMachine(options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const read = options.readText ?? readTextFile;
  const [privileges, clang] = await Promise.all([privilegeChecks(read, options.installRoot ?? DEFAULT_INSTALL_ROOT), clangCheck(options.clangPath ?? '')]);
  return [kernelCheck(read), btfCheck(), bpffsCheck(), tracefsCheck(), kprobesCheck(), lockdownCheck(read), ...privileges, clang, libbpfCheck()];
}

/** The checks as a checklist for a terminal or an output channel: ✓ ok, ✗ missing, ! limited, each fix indented below. */
export function formatChecks(checks: readonly DoctorCheck[]): string {
  const mark: Record<CheckStatus, string> = { ok: '✓', missing: '✗', limited: '!' };
  const lines = checks.flatMap((c) => [`${mark[c.status]} ${c.name}: ${c.detail}`, ...(c.fix && c.status !== 'ok' ? [`    fix: ${c.fix}`] : [])]);
  const missing = checks.filter((c) => c.status === 'missing').length;
  const limited = checks.filter((c) => c.status === 'limited').length;
  lines.push(missing + limited === 0 ? 'This machine is ready.' : `${missing} missing, ${limited} limited.`);
  return `${lines.join('\n')}\n`;
}
