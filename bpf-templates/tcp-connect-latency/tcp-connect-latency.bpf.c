// SPDX-License-Identifier: GPL-2.0
// TCP connect latency: time from sending SYN to ESTABLISHED for active connects, as a log2
// histogram and as one ring-buffer event per connection. Tracepoint sock:inet_sock_set_state.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_SLOTS	27
#define MAX_ENTRIES	10240
#define TASK_COMM_LEN	16
#define AF_INET		2
#define AF_INET6	10

const volatile __u32 targ_tgid = 0;		/* only connects from this process; 0 = every process */
const volatile __u16 targ_dport = 0;		/* only connects to this port; 0 = every port */
const volatile __u64 unit_divisor = 1000;	/* nanoseconds per histogram unit: 1, 1000 (us), 1000000 (ms) */

struct connect_start {
	__u64 ts;
	__u32 tgid;
	char comm[TASK_COMM_LEN];
};

struct event {
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u64 latency_ns;
	__u32 tgid;
	__u16 family;
	__u16 lport;
	__u16 dport;
	char comm[TASK_COMM_LEN];
};

struct hist {
	__u32 slots[MAX_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, const void *);
	__type(value, struct connect_start);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline __u64 log2_u32(__u32 v)
{
	__u32 shift, r;

	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u64 log2_u64(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

SEC("tracepoint/sock/inet_sock_set_state")
int inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct connect_start *startp, new_start = {};
	const void *sk = ctx->skaddr;
	struct event *e;
	struct hist *histp;
	__u32 zero = 0;
	__u64 slot;
	__s64 delta;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;

	if (ctx->newstate == TCP_SYN_SENT) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;

		if (targ_tgid && tgid != targ_tgid)
			return 0;
		if (targ_dport && ctx->dport != targ_dport)
			return 0;
		new_start.ts = bpf_ktime_get_ns();
		new_start.tgid = tgid;
		bpf_get_current_comm(&new_start.comm, sizeof(new_start.comm));
		bpf_map_update_elem(&start, &sk, &new_start, BPF_ANY);
		return 0;
	}

	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;
	startp = bpf_map_lookup_elem(&start, &sk);
	if (!startp)
		return 0;
	if (ctx->newstate != TCP_ESTABLISHED)
		goto cleanup;

	delta = bpf_ktime_get_ns() - startp->ts;
	if (delta < 0)
		goto cleanup;

	histp = bpf_map_lookup_elem(&hists, &zero);
	if (histp) {
		slot = log2_u64(delta / unit_divisor);
		if (slot >= MAX_SLOTS)
			slot = MAX_SLOTS - 1;
		__sync_fetch_and_add(&histp->slots[slot], 1);
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	e->latency_ns = delta;
	e->tgid = startp->tgid;
	__builtin_memcpy(e->comm, startp->comm, sizeof(e->comm));
	e->family = ctx->family;
	e->lport = ctx->sport;
	e->dport = ctx->dport;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (ctx->family == AF_INET) {
		bpf_probe_read_kernel(e->saddr, sizeof(ctx->saddr), ctx->saddr);
		bpf_probe_read_kernel(e->daddr, sizeof(ctx->daddr), ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr, sizeof(ctx->saddr_v6), ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr, sizeof(ctx->daddr_v6), ctx->daddr_v6);
	}
	bpf_ringbuf_submit(e, 0);

cleanup:
	bpf_map_delete_elem(&start, &sk);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
