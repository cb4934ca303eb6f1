// SEC("…") names → program type, as libbpf's section_defs table maps them (libbpf 1.x), with
// libbpf's own matching rules, the data sections (license, .maps …), and closest-name suggestions.
import type { ProgramType } from './program-types';

export interface SectionDefinition {
  /** libbpf's spelling: "kprobe+" (exact or "kprobe/…"), "tc/" (must have "/…"), "xdp" (exact). */
  pattern: string;
  programType: ProgramType;
  attachType?: string;
  sleepable?: boolean;
  /** libbpf's SEC_EXP_ATTACH_OPT: loads without the attach type on kernels that do not know it. */
  attachOptional?: boolean;
  /** A typical full name shown by completion, e.g. "tracepoint/syscalls/sys_enter_openat". */
  example: string;
  /** The libbpf release that introduced this spelling, when newer than 1.0. */
  libbpfSince?: string;
}

export interface SectionMatch {
  name: string;
  definition: SectionDefinition;
  programType: ProgramType;
  /** What follows the prefix ("syscalls/sys_enter_openat" for "tp/syscalls/sys_enter_openat"). */
  target: string;
  /** libbpf skips auto-loading "?name" sections; the rest of the name is matched as usual. */
  autoload: boolean;
}

function def(pattern: string, programType: ProgramType, example: string, extra: Partial<SectionDefinition> = {}): SectionDefinition {
  return { pattern, programType, example, ...extra };
}

export const SECTION_DEFINITIONS: readonly SectionDefinition[] = [
  def('socket', 'socket_filter', 'socket'),
  def('sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport/migrate', { attachType: 'BPF_SK_REUSEPORT_SELECT_OR_MIGRATE' }),
  def('sk_reuseport', 'sk_reuseport', 'sk_reuseport', { attachType: 'BPF_SK_REUSEPORT_SELECT' }),
  def('kprobe+', 'kprobe', 'kprobe/do_unlinkat'),
  def('uprobe+', 'kprobe', 'uprobe//proc/self/exe:main'),
  def('uprobe.s+', 'kprobe', 'uprobe.s//proc/self/exe:main', { sleepable: true }),
  def('kretprobe+', 'kprobe', 'kretprobe/do_unlinkat'),
  def('uretprobe+', 'kprobe', 'uretprobe//proc/self/exe:main'),
  def('uretprobe.s+', 'kprobe', 'uretprobe.s//proc/self/exe:main', { sleepable: true }),
  def('kprobe.multi+', 'kprobe', 'kprobe.multi/do_unlinkat*', { attachType: 'BPF_TRACE_KPROBE_MULTI' }),
  def('kretprobe.multi+', 'kprobe', 'kretprobe.multi/do_unlinkat*', { attachType: 'BPF_TRACE_KPROBE_MULTI' }),
  def('kprobe.session+', 'kprobe', 'kprobe.session/do_unlinkat', { attachType: 'BPF_TRACE_KPROBE_SESSION', libbpfSince: '1.5' }),
  def('uprobe.multi+', 'kprobe', 'uprobe.multi//proc/self/exe:main', { attachType: 'BPF_TRACE_UPROBE_MULTI', libbpfSince: '1.3' }),
  def('uprobe.multi.s+', 'kprobe', 'uprobe.multi.s//proc/self/exe:main', { attachType: 'BPF_TRACE_UPROBE_MULTI', sleepable: true, libbpfSince: '1.3' }),
  def('uretprobe.multi+', 'kprobe', 'uretprobe.multi//proc/self/exe:main', { attachType: 'BPF_TRACE_UPROBE_MULTI', libbpfSince: '1.3' }),
  def('uretprobe.multi.s+', 'kprobe', 'uretprobe.multi.s//proc/self/exe:main', { attachType: 'BPF_TRACE_UPROBE_MULTI', sleepable: true, libbpfSince: '1.3' }),
  def('ksyscall+', 'kprobe', 'ksyscall/openat'),
  def('kretsyscall+', 'kprobe', 'kretsyscall/openat'),
  def('usdt+', 'kprobe', 'usdt'),
  def('usdt.s+', 'kprobe', 'usdt.s', { sleepable: true, libbpfSince: '1.5' }),
  def('tc/ingress', 'sched_cls', 'tc/ingress', { attachType: 'BPF_TCX_INGRESS', libbpfSince: '1.3' }),
  def('tc/egress', 'sched_cls', 'tc/egress', { attachType: 'BPF_TCX_EGRESS', libbpfSince: '1.3' }),
  def('tcx/ingress', 'sched_cls', 'tcx/ingress', { attachType: 'BPF_TCX_INGRESS', libbpfSince: '1.3' }),
  def('tcx/egress', 'sched_cls', 'tcx/egress', { attachType: 'BPF_TCX_EGRESS', libbpfSince: '1.3' }),
  def('tc', 'sched_cls', 'tc'),
  def('classifier', 'sched_cls', 'classifier'),
  def('action', 'sched_act', 'action'),
  def('netkit/primary', 'sched_cls', 'netkit/primary', { attachType: 'BPF_NETKIT_PRIMARY', libbpfSince: '1.3' }),
  def('netkit/peer', 'sched_cls', 'netkit/peer', { attachType: 'BPF_NETKIT_PEER', libbpfSince: '1.3' }),
  def('tracepoint+', 'tracepoint', 'tracepoint/syscalls/sys_enter_openat'),
  def('tp+', 'tracepoint', 'tp/syscalls/sys_enter_openat'),
  def('raw_tracepoint+', 'raw_tracepoint', 'raw_tracepoint/sched_switch'),
  def('raw_tp+', 'raw_tracepoint', 'raw_tp/sched_switch'),
  def('raw_tracepoint.w+', 'raw_tracepoint_writable', 'raw_tracepoint.w/bpf_test_finish'),
  def('raw_tp.w+', 'raw_tracepoint_writable', 'raw_tp.w/bpf_test_finish'),
  def('tp_btf+', 'tracing', 'tp_btf/sched_switch', { attachType: 'BPF_TRACE_RAW_TP' }),
  def('fentry+', 'tracing', 'fentry/do_unlinkat', { attachType: 'BPF_TRACE_FENTRY' }),
  def('fmod_ret+', 'tracing', 'fmod_ret/security_file_open', { attachType: 'BPF_MODIFY_RETURN' }),
  def('fexit+', 'tracing', 'fexit/do_unlinkat', { attachType: 'BPF_TRACE_FEXIT' }),
  def('fentry.s+', 'tracing', 'fentry.s/do_unlinkat', { attachType: 'BPF_TRACE_FENTRY', sleepable: true }),
  def('fmod_ret.s+', 'tracing', 'fmod_ret.s/security_file_open', { attachType: 'BPF_MODIFY_RETURN', sleepable: true }),
  def('fexit.s+', 'tracing', 'fexit.s/do_unlinkat', { attachType: 'BPF_TRACE_FEXIT', sleepable: true }),
  def('freplace+', 'ext', 'freplace/handler'),
  def('lsm+', 'lsm', 'lsm/file_open', { attachType: 'BPF_LSM_MAC' }),
  def('lsm.s+', 'lsm', 'lsm.s/file_open', { attachType: 'BPF_LSM_MAC', sleepable: true }),
  def('lsm_cgroup+', 'lsm', 'lsm_cgroup/socket_bind', { attachType: 'BPF_LSM_CGROUP' }),
  def('iter+', 'tracing', 'iter/task', { attachType: 'BPF_TRACE_ITER' }),
  def('iter.s+', 'tracing', 'iter.s/task', { attachType: 'BPF_TRACE_ITER', sleepable: true }),
  def('syscall', 'syscall', 'syscall', { sleepable: true }),
  def('xdp.frags/devmap', 'xdp', 'xdp.frags/devmap', { attachType: 'BPF_XDP_DEVMAP' }),
  def('xdp/devmap', 'xdp', 'xdp/devmap', { attachType: 'BPF_XDP_DEVMAP' }),
  def('xdp.frags/cpumap', 'xdp', 'xdp.frags/cpumap', { attachType: 'BPF_XDP_CPUMAP' }),
  def('xdp/cpumap', 'xdp', 'xdp/cpumap', { attachType: 'BPF_XDP_CPUMAP' }),
  def('xdp.frags', 'xdp', 'xdp.frags', { attachType: 'BPF_XDP' }),
  def('xdp', 'xdp', 'xdp', { attachType: 'BPF_XDP', attachOptional: true }),
  def('perf_event', 'perf_event', 'perf_event'),
  def('lwt_in', 'lwt_in', 'lwt_in'),
  def('lwt_out', 'lwt_out', 'lwt_out'),
  def('lwt_xmit', 'lwt_xmit', 'lwt_xmit'),
  def('lwt_seg6local', 'lwt_seg6local', 'lwt_seg6local'),
  def('sockops', 'sock_ops', 'sockops', { attachType: 'BPF_CGROUP_SOCK_OPS', attachOptional: true }),
  def('sk_skb/stream_parser', 'sk_skb', 'sk_skb/stream_parser', { attachType: 'BPF_SK_SKB_STREAM_PARSER', attachOptional: true }),
  def('sk_skb/stream_verdict', 'sk_skb', 'sk_skb/stream_verdict', { attachType: 'BPF_SK_SKB_STREAM_VERDICT', attachOptional: true }),
  def('sk_skb/verdict', 'sk_skb', 'sk_skb/verdict', { attachType: 'BPF_SK_SKB_VERDICT', attachOptional: true }),
  def('sk_skb', 'sk_skb', 'sk_skb'),
  def('sk_msg', 'sk_msg', 'sk_msg', { attachType: 'BPF_SK_MSG_VERDICT', attachOptional: true }),
  def('lirc_mode2', 'lirc_mode2', 'lirc_mode2', { attachType: 'BPF_LIRC_MODE2', attachOptional: true }),
  def('flow_dissector', 'flow_dissector', 'flow_dissector', { attachType: 'BPF_FLOW_DISSECTOR', attachOptional: true }),
  def('cgroup_skb/ingress', 'cgroup_skb', 'cgroup_skb/ingress', { attachType: 'BPF_CGROUP_INET_INGRESS', attachOptional: true }),
  def('cgroup_skb/egress', 'cgroup_skb', 'cgroup_skb/egress', { attachType: 'BPF_CGROUP_INET_EGRESS', attachOptional: true }),
  def('cgroup/skb', 'cgroup_skb', 'cgroup/skb'),
  def('cgroup/sock_create', 'cgroup_sock', 'cgroup/sock_create', { attachType: 'BPF_CGROUP_INET_SOCK_CREATE' }),
  def('cgroup/sock_release', 'cgroup_sock', 'cgroup/sock_release', { attachType: 'BPF_CGROUP_INET_SOCK_RELEASE' }),
  def('cgroup/sock', 'cgroup_sock', 'cgroup/sock', { attachType: 'BPF_CGROUP_INET_SOCK_CREATE', attachOptional: true }),
  def('cgroup/post_bind4', 'cgroup_sock', 'cgroup/post_bind4', { attachType: 'BPF_CGROUP_INET4_POST_BIND' }),
  def('cgroup/post_bind6', 'cgroup_sock', 'cgroup/post_bind6', { attachType: 'BPF_CGROUP_INET6_POST_BIND' }),
  def('cgroup/bind4', 'cgroup_sock_addr', 'cgroup/bind4', { attachType: 'BPF_CGROUP_INET4_BIND' }),
  def('cgroup/bind6', 'cgroup_sock_addr', 'cgroup/bind6', { attachType: 'BPF_CGROUP_INET6_BIND' }),
  def('cgroup/connect4', 'cgroup_sock_addr', 'cgroup/connect4', { attachType: 'BPF_CGROUP_INET4_CONNECT' }),
  def('cgroup/connect6', 'cgroup_sock_addr', 'cgroup/connect6', { attachType: 'BPF_CGROUP_INET6_CONNECT' }),
  def('cgroup/connect_unix', 'cgroup_sock_addr', 'cgroup/connect_unix', { attachType: 'BPF_CGROUP_UNIX_CONNECT', libbpfSince: '1.3' }),
  def('cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup/sendmsg4', { attachType: 'BPF_CGROUP_UDP4_SENDMSG' }),
  def('cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup/sendmsg6', { attachType: 'BPF_CGROUP_UDP6_SENDMSG' }),
  def('cgroup/sendmsg_unix', 'cgroup_sock_addr', 'cgroup/sendmsg_unix', { attachType: 'BPF_CGROUP_UNIX_SENDMSG', libbpfSince: '1.3' }),
  def('cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup/recvmsg4', { attachType: 'BPF_CGROUP_UDP4_RECVMSG' }),
  def('cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup/recvmsg6', { attachType: 'BPF_CGROUP_UDP6_RECVMSG' }),
  def('cgroup/recvmsg_unix', 'cgroup_sock_addr', 'cgroup/recvmsg_unix', { attachType: 'BPF_CGROUP_UNIX_RECVMSG', libbpfSince: '1.3' }),
  def('cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup/getpeername4', { attachType: 'BPF_CGROUP_INET4_GETPEERNAME' }),
  def('cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup/getpeername6', { attachType: 'BPF_CGROUP_INET6_GETPEERNAME' }),
  def('cgroup/getpeername_unix', 'cgroup_sock_addr', 'cgroup/getpeername_unix', { attachType: 'BPF_CGROUP_UNIX_GETPEERNAME', libbpfSince: '1.3' }),
  def('cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup/getsockname4', { attachType: 'BPF_CGROUP_INET4_GETSOCKNAME' }),
  def('cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup/getsockname6', { attachType: 'BPF_CGROUP_INET6_GETSOCKNAME' }),
  def('cgroup/getsockname_unix', 'cgroup_sock_addr', 'cgroup/getsockname_unix', { attachType: 'BPF_CGROUP_UNIX_GETSOCKNAME', libbpfSince: '1.3' }),
  def('cgroup/sysctl', 'cgroup_sysctl', 'cgroup/sysctl', { attachType: 'BPF_CGROUP_SYSCTL' }),
  def('cgroup/getsockopt', 'cgroup_sockopt', 'cgroup/getsockopt', { attachType: 'BPF_CGROUP_GETSOCKOPT' }),
  def('cgroup/setsockopt', 'cgroup_sockopt', 'cgroup/setsockopt', { attachType: 'BPF_CGROUP_SETSOCKOPT' }),
  def('cgroup/dev', 'cgroup_device', 'cgroup/dev', { attachType: 'BPF_CGROUP_DEVICE', attachOptional: true }),
  def('struct_ops+', 'struct_ops', 'struct_ops/init'),
  def('struct_ops.s+', 'struct_ops', 'struct_ops.s/init', { sleepable: true }),
  def('sk_lookup', 'sk_lookup', 'sk_lookup', { attachType: 'BPF_SK_LOOKUP' }),
  def('netfilter', 'netfilter', 'netfilter', { attachType: 'BPF_NETFILTER', libbpfSince: '1.2' }),
];

/** Section names libbpf treats as data, not programs (exact names, or prefixes ending in '.'). */
export const DATA_SECTIONS: readonly string[] = [
  'license', 'version', '.maps', 'maps', '.kconfig', '.ksyms', '.struct_ops', '.struct_ops.link',
  '.data', '.rodata', '.bss', '.data.', '.rodata.', '.bss.', '.addr_space.',
];

/** libbpf's sec_def_matches(): "x+" = exact or "x/…", "x/" = "x/…" only, otherwise exact. */
function patternMatches(pattern: string, name: string): boolean {
  if (pattern.endsWith('/')) return name.startsWith(pattern);
  if (pattern.endsWith('+')) {
    const prefix = pattern.slice(0, -1);
    return name.startsWith(prefix) && (name.length === prefix.length || name[prefix.length] === '/');
  }
  return name === pattern;
}

const matchCache = new Map<string, SectionMatch | null>();

export function matchSection(sectionName: string): SectionMatch | null {
  let match = matchCache.get(sectionName);
  if (match === undefined) {
    match = matchSectionUncached(sectionName);
    if (matchCache.size > 10000) matchCache.clear();
    matchCache.set(sectionName, match);
  }
  return match;
}

function matchSectionUncached(sectionName: string): SectionMatch | null {
  const autoload = !sectionName.startsWith('?');
  const name = autoload ? sectionName : sectionName.slice(1);
  for (const definition of SECTION_DEFINITIONS) {
    if (!patternMatches(definition.pattern, name)) continue;
    const bare = definition.pattern.replace(/[+/]$/, '');
    const target = name.length > bare.length ? name.slice(bare.length + 1) : '';
    return { name: sectionName, definition, programType: definition.programType, target, autoload };
  }
  return null;
}

export function isDataSection(name: string): boolean {
  return DATA_SECTIONS.some((data) => (data.endsWith('.') ? name.startsWith(data) : name === data));
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The valid section names closest to a misspelt one. A name with a "/…" part is compared by its
 * prefix, and the suggestion keeps the user's "/…" part when the matching definition takes one.
 */
export function closestSectionNames(sectionName: string, count = 3, dataSection = false): string[] {
  const slash = sectionName.indexOf('/');
  const prefix = slash >= 0 ? sectionName.slice(0, slash) : sectionName;
  const rest = slash >= 0 ? sectionName.slice(slash) : '';
  const candidates: { name: string; distance: number }[] = [];
  if (dataSection) {
    for (const data of DATA_SECTIONS) {
      if (!data.endsWith('.')) candidates.push({ name: data, distance: editDistance(sectionName, data) });
    }
  } else {
    for (const definition of SECTION_DEFINITIONS) {
      const bare = definition.pattern.replace(/[+/]$/, '');
      const takesRest = definition.pattern.endsWith('+') || definition.pattern.endsWith('/');
      if (takesRest && !bare.includes('/')) {
        candidates.push({ name: bare + rest, distance: editDistance(prefix, bare) });
      } else {
        candidates.push({ name: bare, distance: editDistance(sectionName, bare) });
      }
    }
  }
  const seen = new Set<string>();
  return candidates
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .filter((c) => !seen.has(c.name) && seen.add(c.name))
    .slice(0, count)
    .map((c) => c.name);
}
