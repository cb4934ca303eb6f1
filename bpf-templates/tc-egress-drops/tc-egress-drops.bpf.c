// SPDX-License-Identifier: GPL-2.0
// TC egress drop counter: on one interface's egress, drops IPv4 packets of a chosen protocol
// (and destination port) and counts dropped and passed packets and bytes per IP protocol.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_ENTRIES	1024
#define ETH_P_IP	0x0800
#define TC_ACT_OK	0
#define TC_ACT_SHOT	2

const volatile __u8 drop_protocol = 0;	/* IP protocol to drop: 1 ICMP, 6 TCP, 17 UDP; 0 = drop nothing */
const volatile __u16 drop_dport = 0;	/* with TCP or UDP, only this destination port; 0 = every port */

struct verdict_key {
	__u8 ip_proto;		/* IP protocol of the packet; 0 when not IPv4 */
	__u8 dropped;		/* 1 = dropped here, 0 = passed */
	__u16 pad;
};

struct verdict_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct verdict_key);
	__type(value, struct verdict_stats);
} verdicts SEC(".maps");

static __always_inline bool should_drop(struct iphdr *iph, void *data_end)
{
	struct udphdr *ports;

	if (!drop_protocol || iph->protocol != drop_protocol)
		return false;
	if (!drop_dport || (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP))
		return true;

	/* TCP and UDP both start with source and destination port. */
	ports = (void *)iph + iph->ihl * 4;
	if ((void *)(ports + 1) > data_end)
		return false;
	return bpf_ntohs(ports->dest) == drop_dport;
}

static __always_inline void count(struct verdict_key *key, __u64 bytes)
{
	struct verdict_stats *stats, new_stats = { .packets = 1, .bytes = bytes };

	stats = bpf_map_lookup_elem(&verdicts, key);
	if (stats) {
		__sync_fetch_and_add(&stats->packets, 1);
		__sync_fetch_and_add(&stats->bytes, bytes);
		return;
	}
	bpf_map_update_elem(&verdicts, key, &new_stats, BPF_NOEXIST);
}

SEC("tc")
int tc_egress_drops(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct verdict_key key = {};
	struct iphdr *iph;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) {
		count(&key, skb->len);
		return TC_ACT_OK;
	}
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end) {
		count(&key, skb->len);
		return TC_ACT_OK;
	}

	key.ip_proto = iph->protocol;
	key.dropped = should_drop(iph, data_end);
	count(&key, skb->len);
	return key.dropped ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
