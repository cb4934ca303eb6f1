// The section each program type's helpers are probed with (libbpf gives it the program type and expected_attach_type,
// on which some helpers depend): shared by the agent's feature probe and scripts/helper-facts-probe.ts. Data only.

/** Program types that load without an attach target or lockdown exemption, with a section for each. */
export const HELPER_PROBE_SECTIONS: Readonly<Record<string, string>> = {
  socket_filter: 'socket', kprobe: 'kprobe/do_nothing', sched_cls: 'tc', sched_act: 'action', tracepoint: 'tp/syscalls/sys_enter_openat',
  xdp: 'xdp', perf_event: 'perf_event', cgroup_skb: 'cgroup_skb/ingress', cgroup_sock: 'cgroup/sock_create', lwt_in: 'lwt_in',
  lwt_out: 'lwt_out', lwt_xmit: 'lwt_xmit', sock_ops: 'sockops', sk_skb: 'sk_skb', cgroup_device: 'cgroup/dev', sk_msg: 'sk_msg',
  raw_tracepoint: 'raw_tp/sched_switch', cgroup_sock_addr: 'cgroup/connect4', lwt_seg6local: 'lwt_seg6local', sk_reuseport: 'sk_reuseport',
  flow_dissector: 'flow_dissector', cgroup_sysctl: 'cgroup/sysctl', cgroup_sockopt: 'cgroup/getsockopt', sk_lookup: 'sk_lookup',
  syscall: 'syscall', netfilter: 'netfilter',
};
