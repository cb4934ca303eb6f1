// SPDX-License-Identifier: GPL-2.0
// TCP retransmits by address: counts every retransmitted segment (SYNs included) per local
// address, remote address and remote port. BTF tracepoint tcp_retransmit_skb.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define MAX_ENTRIES	10240
#define AF_INET		2
#define AF_INET6	10

const volatile __u16 targ_dport = 0;	/* only connections to this remote port; 0 = every port */

struct retrans_key {
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 family;
	__u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct retrans_key);
	__type(value, __u64);
} retransmits SEC(".maps");

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb, const struct sock *sk, const struct sk_buff *skb)
{
	struct retrans_key key = {};
	__u64 one = 1, *countp;

	key.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	key.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (targ_dport && key.dport != targ_dport)
		return 0;

	if (key.family == AF_INET) {
		BPF_CORE_READ_INTO(&key.saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(&key.daddr, sk, __sk_common.skc_daddr);
	} else if (key.family == AF_INET6) {
		BPF_CORE_READ_INTO(&key.saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&key.daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		return 0;
	}

	countp = bpf_map_lookup_elem(&retransmits, &key);
	if (countp) {
		__sync_fetch_and_add(countp, 1);
		return 0;
	}
	bpf_map_update_elem(&retransmits, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
