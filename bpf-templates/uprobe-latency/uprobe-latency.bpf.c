// SPDX-License-Identifier: GPL-2.0
// User-space function latency: a log2 histogram of how long one function in a binary or library
// takes (e.g. malloc in libc), from a uprobe at its entry to a uretprobe at its return.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_SLOTS	27
#define MAX_ENTRIES	10240

const volatile __u32 targ_tgid = 0;		/* only this process; 0 = every process */
const volatile __u64 unit_divisor = 1000;	/* nanoseconds per histogram unit: 1, 1000 (us), 1000000 (ms) */

struct hist {
	__u32 slots[MAX_SLOTS];
};

struct call_stats {
	__u64 calls;
	__u64 total_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct call_stats);
} totals SEC(".maps");

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

SEC("uprobe")
int BPF_KPROBE(function_entry)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 ts;

	if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
		return 0;

	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid_tgid, &ts, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(function_return)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct call_stats *totalp;
	struct hist *histp;
	__u64 *tsp, slot;
	__u32 zero = 0;
	__s64 delta;

	tsp = bpf_map_lookup_elem(&start, &pid_tgid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &pid_tgid);
	if (delta < 0)
		return 0;

	totalp = bpf_map_lookup_elem(&totals, &zero);
	if (totalp) {
		__sync_fetch_and_add(&totalp->calls, 1);
		__sync_fetch_and_add(&totalp->total_ns, delta);
	}

	histp = bpf_map_lookup_elem(&hists, &zero);
	if (!histp)
		return 0;
	slot = log2_u64(delta / unit_divisor);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&histp->slots[slot], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
