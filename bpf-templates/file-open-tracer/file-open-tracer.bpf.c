// SPDX-License-Identifier: GPL-2.0
// File open tracer: one ring-buffer event per openat() with pid, command, file name, flags and
// result, and a count of failed opens per errno. Tracepoints syscalls:sys_{enter,exit}_openat.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_ENTRIES	10240
#define TASK_COMM_LEN	16
#define FILENAME_LEN	256

const volatile __u32 targ_tgid = 0;		/* only this process; 0 = every process */
const volatile bool failed_only = false;	/* report only opens that failed */

struct open_args {
	const char *filename;
	int flags;
};

struct event {
	__u32 pid;
	int flags;
	int ret;		/* file descriptor, or -errno */
	char comm[TASK_COMM_LEN];
	char filename[FILENAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct open_args);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);		/* errno */
	__type(value, __u64);
} errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline void count_error(__u32 err)
{
	__u64 one = 1, *countp;

	countp = bpf_map_lookup_elem(&errors, &err);
	if (countp) {
		__sync_fetch_and_add(countp, 1);
		return;
	}
	bpf_map_update_elem(&errors, &err, &one, BPF_NOEXIST);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint__syscalls__sys_enter_openat(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct open_args args = {};

	if (targ_tgid && (pid_tgid >> 32) != targ_tgid)
		return 0;

	args.filename = (const char *)ctx->args[1];
	args.flags = (int)ctx->args[2];
	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tracepoint__syscalls__sys_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct open_args *args;
	struct event *e;
	int ret = ctx->ret;

	args = bpf_map_lookup_elem(&start, &tid);
	if (!args)
		return 0;
	if (ret < 0)
		count_error(-ret);
	if (failed_only && ret >= 0)
		goto cleanup;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	e->pid = pid_tgid >> 32;
	e->flags = args->flags;
	e->ret = ret;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), args->filename);
	bpf_ringbuf_submit(e, 0);

cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
