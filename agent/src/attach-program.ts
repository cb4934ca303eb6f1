// Attaches one loaded program by its section as libbpf's auto-attach does, plus xdp/tc on an interface, cgroup hooks,
// perf_event at a frequency and uprobe/usdt by binary+symbol; failures become messages that say why. Talks to libbpf.
import { closeSync, existsSync, openSync, readFileSync, constants as fsConstants } from 'node:fs';
import { XDP_MODES, type AttachOptions, type XdpMode } from '../../protocol/agent-rpc';
import { hello } from './hello';
import type { HeldLink, LiveProgram } from './sessions';
import { libbpf } from './ffi/libbpf';
import { libc } from './ffi/libc';

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 9: 'EBADF', 13: 'EACCES', 16: 'EBUSY', 19: 'ENODEV', 22: 'EINVAL', 38: 'ENOSYS', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP',
};
const BPF_XDP = 37;
const XDP_FLAGS: Record<XdpMode, number> = { generic: 1 << 1, native: 1 << 2, offload: 1 << 3 };
const BPF_TCX_INGRESS = 46;
const BPF_TCX_EGRESS = 47;
const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_CPU_CLOCK = 0;

export class AttachFailure extends Error {}

function errnoText(errno: number): string {
  return `${ERRNO_NAMES[errno] ?? 'errno'} ${errno}`;
}

function sectionKind(section: string): string {
  return section.split('/')[0].replace(/\.s$/, '');
}

/** Why an attach failed, in words a user can act on. */
export function explainAttachError(section: string, errno: number): string {
  const kind = sectionKind(section);
  const facts = hello();
  if (['kprobe', 'kretprobe', 'ksyscall', 'kretsyscall', 'kprobe.multi', 'kretprobe.multi'].includes(kind) && facts.kprobes === false) {
    return `cannot attach ${section}: this kernel was built without CONFIG_KPROBES (tracefs has no kprobe_events), so kprobe programs load but never attach. Use a tracepoint (SEC("tracepoint/<category>/<name>")), tp_btf or raw_tp instead.`;
  }
  if (['fentry', 'fexit', 'fmod_ret', 'lsm', 'freplace'].includes(kind) && errno === 1 && facts.lockdown && facts.lockdown !== 'none') {
    return `cannot attach ${section}: kernel lockdown is "${facts.lockdown}", which refuses ${kind} programs (EPERM). Use tp_btf or raw_tp, or boot without lockdown where you control the machine.`;
  }
  if (errno === 1 || errno === 13) return `cannot attach ${section}: permission denied (${errnoText(errno)}); the agent must run as root or with CAP_BPF and CAP_PERFMON (CAP_NET_ADMIN for xdp/tc).`;
  if (errno === 2 && (kind === 'tracepoint' || kind === 'tp')) {
    return `cannot attach ${section}: the tracepoint does not exist on this kernel (see /sys/kernel/tracing/events, or ask for attach points).`;
  }
  if (errno === 2 || errno === 3) return `cannot attach ${section}: the target it names does not exist on this kernel or binary (${errnoText(errno)}).`;
  if (errno === 16) return `cannot attach ${section}: something else is already attached there (EBUSY), e.g. another XDP program on the interface.`;
  if (errno === 95 || errno === 524) {
    return `cannot attach ${section}: libbpf cannot attach this section by itself (${errnoText(errno)}); give the section a target (e.g. SEC("tracepoint/syscalls/sys_enter_openat")) or attach options.`;
  }
  return `cannot attach ${section}: ${errnoText(errno)}.`;
}

function ifindexOf(ifname: string | undefined, section: string): number {
  if (!ifname) throw new AttachFailure(`${section} needs a network interface: pass the attach option ifname (CLI: --param ifname=eth0).`);
  const path = `/sys/class/net/${ifname}/ifindex`;
  if (!/^[\w.-]+$/.test(ifname) || !existsSync(path)) throw new AttachFailure(`${section}: there is no network interface "${ifname}" on this target (see \`ip link\`).`);
  return Number(readFileSync(path, 'utf8').trim());
}

function onlineCpus(): number[] {
  const text = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  return text.split(',').flatMap((range) => {
    const [a, b] = range.split('-').map(Number);
    return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
  });
}

function perfAttr(frequencyHz: number): Buffer {
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(PERF_TYPE_SOFTWARE, 0);
  attr.writeUInt32LE(128, 4);
  attr.writeBigUInt64LE(BigInt(PERF_COUNT_SW_CPU_CLOCK), 8);
  attr.writeBigUInt64LE(BigInt(frequencyHz), 16);
  attr.writeBigUInt64LE(1n << 10n, 40); // flags: freq
  return attr;
}

/** The probe a usdt program attaches to: attach options first, else its section usdt/<binary>:<provider>:<name>. */
function usdtTarget(section: string, options: AttachOptions): { binary: string; provider: string; name: string } {
  const parts = /^usdt(?:\.s)?\/([^:]+):([^:]+):([^:]+)$/.exec(section);
  if (section.includes('/') && !parts && !options.binaryPath) {
    throw new AttachFailure(`${section}: a usdt section names its probe as usdt/<absolute binary path>:<provider>:<name>, e.g. SEC("usdt/usr/bin/python3.11:python:function__entry").`);
  }
  // A section path is absolute whether written usdt//usr/bin/x or usdt/usr/bin/x; a bare name (libc.so.6) is left to libbpf's PATH/library search.
  const sectionBinary = parts && (parts[1].includes('/') ? `/${parts[1].replace(/^\/+/, '')}` : parts[1]);
  const binary = options.binaryPath ?? sectionBinary ?? '';
  const provider = options.usdtProvider ?? parts?.[2];
  const name = options.usdtName ?? parts?.[3];
  if (!provider || !name) throw new AttachFailure(`${section}: with binaryPath, also give usdtProvider and usdtName.`);
  // libbpf would resolve a relative path against the agent's own working directory, which the user cannot see.
  if (binary.includes('/') && !binary.startsWith('/')) throw new AttachFailure(`${section}: binaryPath must be an absolute path (e.g. /usr/bin/python3.11) or a bare name searched on PATH, not "${binary}".`);
  if (binary.startsWith('/') && !existsSync(binary)) throw new AttachFailure(`${section}: there is no file ${binary} on this target.`);
  return { binary, provider, name };
}

/** Attaches a usdt program with libbpf (which fills usdt.bpf.h's spec maps and sets semaphores via ref_ctr_offset). */
function attachUsdt(program: LiveProgram, options: AttachOptions): HeldLink {
  const b = libbpf();
  const { binary, provider, name } = usdtTarget(program.section, options);
  const pid = options.pid ?? -1;
  const link = b.attachUsdt(program.prog, pid, binary, provider, name);
  if (link) return { link };
  const errno = libc().errno();
  if (errno === 2) {
    throw new AttachFailure(`cannot attach ${program.section}: ${binary} has no USDT probe ${provider}:${name} (list its probes with \`readelf -n ${binary}\`; a wrapper such as a pyenv shim or a symlink to another build has different ones).`);
  }
  if (errno === 3) throw new AttachFailure(`cannot attach ${program.section}: there is no process ${pid} (pid -1 or no pid traces every process running ${binary}).`);
  throw new AttachFailure(explainAttachError(program.section, errno));
}

/** Why an XDP attach in `mode` failed, by errno. */
function explainXdpError(section: string, ifname: string, mode: XdpMode, errno: number): string {
  const at = `cannot attach ${section} to ${ifname} in ${mode} mode`;
  if (errno === 95 || errno === 22) {
    if (mode === 'native') return `${at}: its driver has no native XDP support (${errnoText(errno)}); use xdpMode generic (SKB mode, slower but works on every interface).`;
    if (mode === 'offload') return `${at}: the NIC cannot run XDP programs in hardware (${errnoText(errno)}); use xdpMode native or generic.`;
    return `${at}: the kernel refused generic XDP (${errnoText(errno)}).`;
  }
  if (errno === 16) return `${at}: another XDP program is already attached to ${ifname} (EBUSY); detach it first (ip link set dev ${ifname} xdp off).`;
  if (errno === 34) return `${at}: the interface's MTU is too large for XDP in this mode (ERANGE); lower it or use xdpMode generic.`;
  return explainAttachError(section, errno);
}

/** XDP through a link (detached when the agent exits): native first, generic when the driver refuses, unless a mode is set. */
function attachXdp(program: LiveProgram, options: AttachOptions): Attached {
  const b = libbpf();
  const ifindex = ifindexOf(options.ifname, program.section);
  const ifname = options.ifname as string;
  if (options.xdpMode !== undefined && !XDP_MODES.includes(options.xdpMode)) {
    throw new AttachFailure(`${program.section}: xdpMode is one of ${XDP_MODES.join(', ')}, not "${String(options.xdpMode)}".`);
  }
  const mode = options.xdpMode ?? 'native';
  const fd = b.linkCreateWithFlags(program.fd, ifindex, BPF_XDP, XDP_FLAGS[mode]);
  if (fd >= 0) return { links: [{ fd }], ...(options.xdpMode ? {} : { note: `native XDP on ${ifname}` }) };
  const errno = -fd;
  if (options.xdpMode || (errno !== 95 && errno !== 22)) throw new AttachFailure(explainXdpError(program.section, ifname, mode, errno));
  const generic = b.linkCreateWithFlags(program.fd, ifindex, BPF_XDP, XDP_FLAGS.generic);
  if (generic < 0) throw new AttachFailure(explainXdpError(program.section, ifname, 'generic', -generic));
  return { links: [{ fd: generic }], note: `generic (SKB) XDP on ${ifname}: its driver refused native XDP (${errnoText(errno)}); generic mode sees the same packets after the kernel allocated them, so it is slower` };
}

export interface Attached {
  links: HeldLink[];
  /** How it was attached, when that involved a choice (e.g. XDP mode). */
  note?: string;
}

/** Attaches `program`; returns the links it now holds (and how, when it chose), or throws AttachFailure with the reason. */
export function attachProgram(program: LiveProgram, options: AttachOptions = {}): Attached {
  return program.section.startsWith('xdp') ? attachXdp(program, options) : { links: attachLinks(program, options) };
}

function attachLinks(program: LiveProgram, options: AttachOptions): HeldLink[] {
  const b = libbpf();
  const c = libc();
  const { section, prog } = program;
  const kind = sectionKind(section);
  const check = (link: ReturnType<typeof b.attach>): HeldLink => {
    if (!link) throw new AttachFailure(explainAttachError(section, c.errno()));
    return { link };
  };

  if (kind === 'tc' || kind === 'classifier' || kind === 'tcx') {
    const ifindex = ifindexOf(options.ifname, section);
    const egress = options.direction === 'egress' || /egress/.test(section);
    const fd = b.linkCreate(program.fd, ifindex, egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS);
    if (fd < 0) {
      const errno = -fd;
      throw new AttachFailure(errno === 22 ? `cannot attach ${section} to ${options.ifname}: the kernel has no tcx links (Linux 6.6+ is needed for detach-on-exit tc attachment).` : explainAttachError(section, errno));
    }
    return [{ fd }];
  }
  if (kind.startsWith('cgroup') || kind === 'sockops') {
    const path = options.cgroupPath;
    if (!path) throw new AttachFailure(`${section} needs a cgroup: pass the attach option cgroupPath (e.g. /sys/fs/cgroup).`);
    let fd: number;
    try {
      fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    } catch (err) {
      throw new AttachFailure(`${section}: cannot open cgroup ${path}: ${(err as Error).message}.`);
    }
    try {
      return [check(b.attachCgroup(prog, fd))];
    } finally {
      closeSync(fd);
    }
  }
  if (kind === 'perf_event') {
    const hz = options.frequencyHz ?? 99;
    if (!Number.isInteger(hz) || hz < 1 || hz > 100_000) throw new AttachFailure(`${section}: frequencyHz must be an integer between 1 and 100000, not ${hz}.`);
    const links: HeldLink[] = [];
    try {
      for (const cpu of onlineCpus()) {
        const pfd = c.perfEventOpen(perfAttr(hz), -1, cpu, -1, 0);
        if (pfd < 0) throw new AttachFailure(`${section}: perf_event_open on CPU ${cpu} failed (${errnoText(-pfd)}); perf events may be restricted (kernel.perf_event_paranoid).`);
        const link = b.attachPerfEvent(prog, pfd);
        if (!link) {
          const errno = c.errno();
          c.close(pfd);
          throw new AttachFailure(explainAttachError(section, errno));
        }
        links.push({ link });
      }
    } catch (err) {
      for (const held of links) if (held.link) b.linkDestroy(held.link);
      throw err;
    }
    return links;
  }
  if ((kind === 'uprobe' || kind === 'uretprobe') && options.binaryPath) {
    if (!options.symbol) throw new AttachFailure(`${section}: with binaryPath, also give symbol (the function to probe).`);
    return [check(b.attachUprobe(prog, kind === 'uretprobe', options.pid ?? -1, options.binaryPath, options.symbol))];
  }
  if (kind === 'usdt' && (options.binaryPath || section.includes('/'))) return [attachUsdt(program, options)];
  if (kind === 'usdt') throw new AttachFailure(`${section} names no probe: write SEC("usdt/<binary>:<provider>:<name>") or pass binaryPath, usdtProvider and usdtName.`);
  if ((kind === 'uprobe' || kind === 'uretprobe') && !section.includes('/')) {
    throw new AttachFailure(`${section} names no binary: write SEC("${kind}/<path>:<function>") or pass binaryPath and symbol.`);
  }
  return [check(b.attach(prog))];
}
