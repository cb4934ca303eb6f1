// SPDX-License-Identifier: GPL-2.0
// Block I/O latency: a log2 histogram of the time from a request's issue to the device until its
// completion, for every disk or one, optionally one histogram per disk. BTF tracepoints block_rq_*, written to
// load on kernels before and after 5.11/5.17 the way libbpf-tools' biolatency does (kconfig version, CO-RE).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#ifndef KERNEL_VERSION
#define KERNEL_VERSION(a, b, c)	(((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
#endif

#define MAX_SLOTS	27
#define MAX_ENTRIES	10240
#define MINORBITS	20
#define MKDEV(ma, mi)	(((ma) << MINORBITS) | (mi))

extern int LINUX_KERNEL_VERSION __kconfig;

const volatile __u32 targ_dev = 0;		/* only this disk, as MKDEV(major, minor); 0 = every disk */
const volatile bool per_disk = false;		/* one histogram per disk */
const volatile __u64 unit_divisor = 1000;	/* nanoseconds per histogram unit: 1, 1000 (us), 1000000 (ms) */

struct hist_key {
	__u32 dev;
};

struct hist {
	__u32 slots[MAX_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, struct request *);
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

/*
 * Kernels before 5.17 keep the disk in request->rq_disk; later ones only in request->q->disk (commits
 * d152c682f03c and f3fa33acca9f). These ___x flavours name both, and CO-RE keeps whichever this kernel has.
 */
struct request_queue___x {
	struct gendisk *disk;
} __attribute__((preserve_access_index));

struct request___x {
	struct request_queue___x *q;
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *get_disk(void *request)
{
	struct request___x *r = request;

	if (bpf_core_field_exists(r->rq_disk))
		return BPF_CORE_READ(r, rq_disk);
	return BPF_CORE_READ(r, q, disk);
}

static __always_inline __u32 request_dev(struct request *rq)
{
	struct gendisk *disk = get_disk(rq);

	if (!disk)
		return 0;
	return MKDEV(BPF_CORE_READ(disk, major), BPF_CORE_READ(disk, first_minor));
}

static __always_inline int trace_rq_start(struct request *rq)
{
	__u64 ts;

	if (targ_dev && request_dev(rq) != targ_dev)
		return 0;

	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &rq, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int block_rq_issue(__u64 *ctx)
{
	/*
	 * commit a54895fa057c (v5.11) changed the tracepoint's arguments from
	 * (struct request_queue *q, struct request *rq) to (struct request *rq).
	 */
	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(5, 11, 0))
		return trace_rq_start((void *)ctx[1]);
	return trace_rq_start((void *)ctx[0]);
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	struct hist_key key = {};
	struct hist *histp;
	__u64 *tsp, slot;
	__s64 delta;

	tsp = bpf_map_lookup_elem(&start, &rq);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &rq);
	if (delta < 0)
		return 0;

	if (per_disk)
		key.dev = request_dev(rq);
	histp = bpf_map_lookup_elem(&hists, &key);
	if (!histp) {
		bpf_map_update_elem(&hists, &key, &zero_hist, BPF_NOEXIST);
		histp = bpf_map_lookup_elem(&hists, &key);
		if (!histp)
			return 0;
	}

	slot = log2_u64(delta / unit_divisor);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&histp->slots[slot], 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
