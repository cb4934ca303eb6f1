// SPDX-License-Identifier: GPL-2.0
// Syscall latency: a log2 histogram of how long one system call (chosen by number) takes,
// for every process or one, optionally one histogram per process. Raw tracepoints sys_enter/sys_exit.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_SLOTS	27
#define MAX_ENTRIES	10240
#define TASK_COMM_LEN	16

const volatile long targ_syscall = 0;		/* syscall number to time (the template's syscall parameter, by name) */
const volatile __u32 targ_tgid = 0;		/* only this process; 0 = every process */
const volatile bool per_process = false;	/* one histogram per process */
const volatile __u64 unit_divisor = 1000;	/* nanoseconds per histogram unit: 1, 1000 (us), 1000000 (ms) */

struct hist_key {
	__u32 tgid;
};

struct hist {
	__u32 slots[MAX_SLOTS];
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero_hist;

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

SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 ts;

	if (id != targ_syscall)
		return 0;
	if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
		return 0;

	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid_tgid, &ts, BPF_ANY);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct hist_key key = {};
	struct hist *histp;
	__u64 *tsp, slot;
	__s64 delta;

	tsp = bpf_map_lookup_elem(&start, &pid_tgid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &pid_tgid);
	if (delta < 0)
		return 0;

	if (per_process)
		key.tgid = pid_tgid >> 32;
	histp = bpf_map_lookup_elem(&hists, &key);
	if (!histp) {
		bpf_map_update_elem(&hists, &key, &zero_hist, BPF_NOEXIST);
		histp = bpf_map_lookup_elem(&hists, &key);
		if (!histp)
			return 0;
		if (per_process)
			bpf_get_current_comm(&histp->comm, sizeof(histp->comm));
	}

	slot = log2_u64(delta / unit_divisor);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&histp->slots[slot], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
