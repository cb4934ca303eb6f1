// The BPF program types by their libbpf names ("xdp", "sched_cls", "tracing" …) and kernel enum
// names (BPF_PROG_TYPE_XDP …), as libbpf's prog_type_name table spells them. Pure data.

export const PROGRAM_TYPES = {
  socket_filter: 'BPF_PROG_TYPE_SOCKET_FILTER',
  kprobe: 'BPF_PROG_TYPE_KPROBE',
  sched_cls: 'BPF_PROG_TYPE_SCHED_CLS',
  sched_act: 'BPF_PROG_TYPE_SCHED_ACT',
  tracepoint: 'BPF_PROG_TYPE_TRACEPOINT',
  xdp: 'BPF_PROG_TYPE_XDP',
  perf_event: 'BPF_PROG_TYPE_PERF_EVENT',
  cgroup_skb: 'BPF_PROG_TYPE_CGROUP_SKB',
  cgroup_sock: 'BPF_PROG_TYPE_CGROUP_SOCK',
  lwt_in: 'BPF_PROG_TYPE_LWT_IN',
  lwt_out: 'BPF_PROG_TYPE_LWT_OUT',
  lwt_xmit: 'BPF_PROG_TYPE_LWT_XMIT',
  sock_ops: 'BPF_PROG_TYPE_SOCK_OPS',
  sk_skb: 'BPF_PROG_TYPE_SK_SKB',
  cgroup_device: 'BPF_PROG_TYPE_CGROUP_DEVICE',
  sk_msg: 'BPF_PROG_TYPE_SK_MSG',
  raw_tracepoint: 'BPF_PROG_TYPE_RAW_TRACEPOINT',
  cgroup_sock_addr: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR',
  lwt_seg6local: 'BPF_PROG_TYPE_LWT_SEG6LOCAL',
  lirc_mode2: 'BPF_PROG_TYPE_LIRC_MODE2',
  sk_reuseport: 'BPF_PROG_TYPE_SK_REUSEPORT',
  flow_dissector: 'BPF_PROG_TYPE_FLOW_DISSECTOR',
  cgroup_sysctl: 'BPF_PROG_TYPE_CGROUP_SYSCTL',
  raw_tracepoint_writable: 'BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE',
  cgroup_sockopt: 'BPF_PROG_TYPE_CGROUP_SOCKOPT',
  tracing: 'BPF_PROG_TYPE_TRACING',
  struct_ops: 'BPF_PROG_TYPE_STRUCT_OPS',
  ext: 'BPF_PROG_TYPE_EXT',
  lsm: 'BPF_PROG_TYPE_LSM',
  sk_lookup: 'BPF_PROG_TYPE_SK_LOOKUP',
  syscall: 'BPF_PROG_TYPE_SYSCALL',
  netfilter: 'BPF_PROG_TYPE_NETFILTER',
} as const;

/** A libbpf program type name, e.g. 'xdp', 'kprobe', 'tracing'. */
export type ProgramType = keyof typeof PROGRAM_TYPES;

export function programTypeEnumName(type: ProgramType): string {
  return PROGRAM_TYPES[type];
}

export function programTypeFromEnumName(name: string): ProgramType | undefined {
  return (Object.keys(PROGRAM_TYPES) as ProgramType[]).find((type) => PROGRAM_TYPES[type] === name);
}
