// SPDX-License-Identifier: GPL-2.0
// XDP protocol counter: packets and bytes received on one interface, per EtherType and IP
// protocol (TCP, UDP, ICMP, ...). Passes every packet on. XDP program on the chosen interface.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_ENTRIES	1024
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD

struct proto_key {
	__u16 eth_proto;	/* EtherType, e.g. 0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP */
	__u8 ip_proto;		/* IP protocol for IPv4/IPv6: 1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6; else 0 */
	__u8 pad;
};

struct proto_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct proto_key);
	__type(value, struct proto_stats);
} protocols SEC(".maps");

SEC("xdp")
int xdp_count_protocols(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct proto_key key = {};
	struct proto_stats *stats, new_stats = {};
	__u64 bytes = data_end - data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	key.eth_proto = bpf_ntohs(eth->h_proto);

	if (key.eth_proto == ETH_P_IP) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return XDP_PASS;
		key.ip_proto = iph->protocol;
	} else if (key.eth_proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return XDP_PASS;
		key.ip_proto = ip6h->nexthdr;
	}

	stats = bpf_map_lookup_elem(&protocols, &key);
	if (stats) {
		__sync_fetch_and_add(&stats->packets, 1);
		__sync_fetch_and_add(&stats->bytes, bytes);
		return XDP_PASS;
	}
	new_stats.packets = 1;
	new_stats.bytes = bytes;
	bpf_map_update_elem(&protocols, &key, &new_stats, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
