// SPDX-License-Identifier: GPL-2.0
// Exec tracer: one ring-buffer event per execve() with pid, parent pid, command name, file name
// and return code. Tracepoints syscalls:sys_enter_execve and syscalls:sys_exit_execve.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_ENTRIES	10240
#define TASK_COMM_LEN	16
#define FILENAME_LEN	256

const volatile __u32 targ_ppid = 0;		/* only children of this process; 0 = every process */
const volatile bool ignore_failed = false;	/* skip execs that returned an error */

struct event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	int retval;
	char comm[TASK_COMM_LEN];
	char filename[FILENAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static const struct event empty_event;

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 ppid = BPF_CORE_READ(task, real_parent, tgid);
	struct event *e;

	if (targ_ppid && ppid != targ_ppid)
		return 0;
	if (bpf_map_update_elem(&execs, &tid, &empty_event, BPF_NOEXIST))
		return 0;
	e = bpf_map_lookup_elem(&execs, &tid);
	if (!e)
		return 0;

	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = ppid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const char *)ctx->args[0]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tracepoint__syscalls__sys_exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e;

	e = bpf_map_lookup_elem(&execs, &tid);
	if (!e)
		return 0;
	e->retval = ctx->ret;
	if (ignore_failed && ctx->ret < 0)
		goto cleanup;

	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_output(&events, e, sizeof(*e), 0);

cleanup:
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
