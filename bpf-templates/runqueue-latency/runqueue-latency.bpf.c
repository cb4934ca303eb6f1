// SPDX-License-Identifier: GPL-2.0
// Run-queue latency: a log2 histogram of how long runnable tasks wait for a CPU, from wakeup
// (or preemption) to running. BTF tracepoints sched_wakeup, sched_wakeup_new and sched_switch.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_SLOTS	27
#define MAX_ENTRIES	10240
#define TASK_COMM_LEN	16
#define TASK_RUNNING	0

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
	__type(key, __u32);
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

/* The task's state field was renamed from state to __state in Linux 5.14. */
struct task_struct___pre_5_14 {
	long state;
};

static __always_inline long task_state(struct task_struct *t)
{
	struct task_struct___pre_5_14 *old = (void *)t;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ(old, state);
}

static __always_inline int trace_enqueue(__u32 tgid, __u32 pid)
{
	__u64 ts;

	if (!pid)
		return 0;
	if (targ_tgid && targ_tgid != tgid)
		return 0;

	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct hist_key key = {};
	struct hist *histp;
	__u64 *tsp, slot;
	__u32 pid;
	__s64 delta;

	/* A task preempted while runnable goes straight back to the run queue. */
	if (task_state(prev) == TASK_RUNNING)
		trace_enqueue(BPF_CORE_READ(prev, tgid), BPF_CORE_READ(prev, pid));

	pid = BPF_CORE_READ(next, pid);
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &pid);
	if (delta < 0)
		return 0;

	if (per_process)
		key.tgid = BPF_CORE_READ(next, tgid);
	histp = bpf_map_lookup_elem(&hists, &key);
	if (!histp) {
		bpf_map_update_elem(&hists, &key, &zero_hist, BPF_NOEXIST);
		histp = bpf_map_lookup_elem(&hists, &key);
		if (!histp)
			return 0;
		if (per_process)
			bpf_probe_read_kernel_str(&histp->comm, sizeof(histp->comm), next->comm);
	}

	slot = log2_u64(delta / unit_divisor);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&histp->slots[slot], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
