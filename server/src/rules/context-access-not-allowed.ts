// Rule context-access-not-allowed: a program reads or writes a context field its program type (or attach type)
// may not touch: __sk_buff fields per socket filter / cgroup_skb / tc, xdp_md egress_ifindex, bpf_sock fields per cgroup_sock hook, bpf_sock_addr addresses,
// tp_btf arguments past the tracepoint's own (server/src/kernel/generated/tracepoint-args.json, read from kernel BTF).
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts } from '../analysis/flow-walker';
import tracepointArgs from '../kernel/generated/tracepoint-args.json';

interface ContextLayout {
  /** Byte offset of each field, for the verifier's "off=" (arrays: their first element). */
  offsets: Readonly<Record<string, number>>;
  /** Whether the field may be read by this program, given its type and section; a reason when it may not. */
  readRefused(field: string, fn: ProbeFunction): string | null;
  writeRefused(field: string, fn: ProbeFunction): string | null;
}

const SKB_OFFSETS: Readonly<Record<string, number>> = {
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24, vlan_proto: 28,
  priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68, tc_classid: 72, data: 76,
  data_end: 80, napi_id: 84, family: 88, remote_ip4: 92, local_ip4: 96, remote_ip6: 100, local_ip6: 116,
  remote_port: 132, local_port: 136, data_meta: 140, flow_keys: 144, tstamp: 152, wire_len: 160, gso_segs: 164,
  sk: 168, gso_size: 176, tstamp_type: 180, hwtstamp: 184,
};

/** Per program type: the __sk_buff fields it may not read, and the only ones it may write (net/core/filter.c). */
const SKB_ACCESS: Readonly<Record<string, { unreadable: string[]; writable: string[] }>> = {
  socket_filter: {
    unreadable: ['tc_classid', 'data', 'data_meta', 'data_end', 'family', 'remote_ip4', 'local_ip4', 'remote_ip6', 'local_ip6', 'remote_port', 'local_port', 'tstamp', 'wire_len', 'hwtstamp'],
    writable: ['cb'],
  },
  cgroup_skb: { unreadable: ['tc_classid', 'data_meta', 'wire_len'], writable: ['mark', 'priority', 'cb', 'tstamp'] },
  sched_cls: { unreadable: ['flow_keys'], writable: ['mark', 'tc_index', 'priority', 'cb', 'tc_classid', 'queue_mapping', 'tstamp'] },
  sched_act: { unreadable: ['flow_keys'], writable: ['mark', 'tc_index', 'priority', 'cb', 'tc_classid', 'queue_mapping', 'tstamp'] },
};

const PROGRAM_KIND: Readonly<Record<string, string>> = {
  socket_filter: 'socket filters',
  cgroup_skb: 'cgroup_skb programs',
  sched_cls: 'tc programs',
  sched_act: 'tc actions',
};

/** cgroup/connect4, cgroup/sendmsg6 …: the socket call and the address family of a sock_addr hook. */
function sockAddrHook(fn: ProbeFunction): { call: string; family: string } | null {
  const match = /(bind|connect|getpeername|getsockname|sendmsg|recvmsg)(4|6|_unix)$/.exec(fn.section ?? '');
  return match ? { call: match[1], family: match[2] } : null;
}

/** bpf_sock fields only some cgroup_sock attach points may touch, with those attach points (net/core/filter.c, __sock_filter_check_attach_type). */
const SOCK_FIELD_HOOKS: Readonly<Record<string, { hooks: string[]; when: string }>> = {
  bound_dev_if: { hooks: ['BPF_CGROUP_INET_SOCK_CREATE', 'BPF_CGROUP_INET_SOCK_RELEASE'], when: 'in sock_create and sock_release hooks' },
  mark: { hooks: ['BPF_CGROUP_INET_SOCK_CREATE', 'BPF_CGROUP_INET_SOCK_RELEASE'], when: 'in sock_create and sock_release hooks' },
  priority: { hooks: ['BPF_CGROUP_INET_SOCK_CREATE', 'BPF_CGROUP_INET_SOCK_RELEASE'], when: 'in sock_create and sock_release hooks' },
  src_ip4: { hooks: ['BPF_CGROUP_INET4_POST_BIND'], when: 'once an IPv4 socket is bound (post_bind4)' },
  src_ip6: { hooks: ['BPF_CGROUP_INET6_POST_BIND'], when: 'once an IPv6 socket is bound (post_bind6)' },
  src_port: { hooks: ['BPF_CGROUP_INET4_POST_BIND', 'BPF_CGROUP_INET6_POST_BIND'], when: 'once the socket is bound (post_bind4, post_bind6)' },
};

/** Why a cgroup_sock hook may not touch ctx->field at all, or null when its attach point may. */
function sockFieldRefused(field: string, fn: ProbeFunction): string | null {
  const limited = SOCK_FIELD_HOOKS[field];
  if (!limited || fn.programType !== 'cgroup_sock') return null;
  const attachType = fn.sectionMatch?.definition.attachType;
  return attachType && limited.hooks.includes(attachType) ? null : `ctx->${field} is accessible only ${limited.when}; this is ${fn.section}`;
}

const LAYOUTS: Readonly<Record<string, ContextLayout>> = {
  'struct __sk_buff': {
    offsets: SKB_OFFSETS,
    readRefused(field, fn) {
      const access = SKB_ACCESS[fn.programType ?? ''];
      return access?.unreadable.includes(field) ? `${PROGRAM_KIND[fn.programType ?? '']} cannot read skb->${field}` : null;
    },
    writeRefused(field, fn) {
      const access = SKB_ACCESS[fn.programType ?? ''];
      return access && !access.writable.includes(field) ? `${PROGRAM_KIND[fn.programType ?? '']} may write only ${access.writable.map((f) => `skb->${f}`).join(', ')}` : null;
    },
  },
  'struct xdp_md': {
    offsets: { data: 0, data_end: 4, data_meta: 8, ingress_ifindex: 12, rx_queue_index: 16, egress_ifindex: 20 },
    readRefused(field, fn) {
      const devmap = fn.sectionMatch?.definition.attachType === 'BPF_XDP_DEVMAP';
      return field === 'egress_ifindex' && !devmap ? `ctx->egress_ifindex is readable only by XDP programs run from a devmap (SEC("xdp/devmap")); this one runs on ${fn.section ?? 'a device'}` : null;
    },
    writeRefused: (field) => `XDP programs cannot write ctx->${field}; move the packet with bpf_xdp_adjust_head()/bpf_xdp_adjust_meta() instead`,
  },
  'struct bpf_sock': {
    offsets: { bound_dev_if: 0, family: 4, type: 8, protocol: 12, mark: 16, priority: 20, src_ip4: 24, src_ip6: 28, src_port: 44, dst_port: 48, dst_ip4: 52, dst_ip6: 56, state: 72, rx_queue_mapping: 76 },
    readRefused: sockFieldRefused,
    writeRefused(field, fn) {
      const refused = sockFieldRefused(field, fn);
      if (refused) return refused;
      return ['bound_dev_if', 'mark', 'priority'].includes(field) ? null : `ctx->${field} is read-only`;
    },
  },
  'struct bpf_sock_addr': {
    offsets: { user_family: 0, user_ip4: 4, user_ip6: 8, user_port: 24, family: 28, type: 32, protocol: 36, msg_src_ip4: 40, msg_src_ip6: 44, sk: 64 },
    readRefused(field, fn) {
      const hook = sockAddrHook(fn);
      if (!hook) return null;
      const ipv4 = field === 'user_ip4' || field === 'msg_src_ip4';
      const ipv6 = field === 'user_ip6' || field === 'msg_src_ip6';
      if ((ipv4 && hook.family !== '4') || (ipv6 && hook.family !== '6')) return `ctx->${field} exists only for IPv${ipv4 ? 4 : 6} hooks; this is ${fn.section}`;
      if (field.startsWith('msg_src_') && hook.call !== 'sendmsg') return `ctx->${field} exists only for sendmsg hooks; this is ${fn.section}`;
      return null;
    },
    writeRefused(field, fn) {
      if (['family', 'type', 'protocol', 'sk', 'user_family'].includes(field)) return `ctx->${field} is read-only`;
      return this.readRefused(field, fn);
    },
  },
};

/** BPF_PROG(name, …) on SEC("tp_btf/<tracepoint>"): each argument used past the ones the tracepoint passes reads past its context. */
function checkTracepointArguments(file: ProbeFile, fn: ProbeFunction): Finding[] {
  const tracepoint = /^tp_btf\/(\w+)$/.exec(fn.section ?? '')?.[1];
  const passed: string[] | undefined = tracepoint ? (tracepointArgs.tracepoints as Record<string, string[]>)[tracepoint] : undefined;
  if (!tracepoint || !passed || fn.wrapper !== 'BPF_PROG' || fn.params.length <= passed.length) return [];
  const used = new Set(fn.body.descendantsOfType('identifier').map((node) => node?.text));
  return fn.params.slice(passed.length).flatMap((param, extra) => {
    if (!param.name || !used.has(param.name)) return [];
    const position = passed.length + extra + 1;
    return [{
      range: file.rangeOf(param.node),
      message: `'${param.name}' is argument ${position}, but tracepoint ${tracepoint} passes ${passed.length} (${passed.join(', ')}) on kernel ${tracepointArgs.kernelRelease.replace(/-.*/, '')}; there is nothing to read there`,
      verifierMessage: `func '${tracepoint}' doesn't have ${position}-th argument`,
    }];
  });
}

export function checkContextAccess(file: ProbeFile, fn: ProbeFunction): Finding[] {
  if (fn.programType === 'tracing') return checkTracepointArguments(file, fn);
  const context = fn.isProgram ? fn.params[0] : undefined;
  if (!context?.name) return [];
  const layout = LAYOUTS[context.type.replace(/\*/g, '').replace(/\s+/g, ' ').trim()];
  if (!layout) return [];
  const findings: Finding[] = [];
  for (const access of fn.body.descendantsOfType('field_expression')) {
    if (!access || access.childForFieldName('operator')?.text === '.') continue;
    const base = access.childForFieldName('argument');
    const field = access.childForFieldName('field')?.text;
    if (!base || !field || stripCasts(base).text !== context.name || !Object.hasOwn(layout.offsets, field)) continue;
    const parent = access.parent;
    const written = parent?.type === 'assignment_expression' && parent.childForFieldName('left')?.id === access.id;
    const reason = written ? layout.writeRefused(field, fn) : layout.readRefused(field, fn);
    if (!reason) continue;
    findings.push({
      range: file.rangeOf(access),
      message: `${written ? 'writing' : 'reading'} '${file.textOf(access)}': ${reason}`,
      verifierMessage: `invalid bpf_context access off=${layout.offsets[field]} size=4`,
      path: [{ range: fn.sectionRange ?? fn.nameRange, message: `SEC("${fn.section ?? ''}") decides which context fields '${fn.name}' may touch` }],
    });
  }
  return findings;
}

export const contextAccessNotAllowedRule: Rule = {
  id: 'context-access-not-allowed',
  description: 'A context field the program type or attach point may not read or write (skb fields in socket filters, egress_ifindex outside devmaps, src_port before post_bind, IPv6 fields in IPv4 sock_addr hooks, tp_btf arguments the tracepoint does not pass …).',
  programTypes: ['socket_filter', 'cgroup_skb', 'sched_cls', 'sched_act', 'xdp', 'cgroup_sock', 'cgroup_sock_addr', 'tracing'],
  verifierMessage: 'invalid bpf_context access off=72 size=4',
  checkFunction: checkContextAccess,
};
