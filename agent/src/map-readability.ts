// Which map types user space cannot list as key/value entries, and why (the kernel refuses lookups of fds, sockets and
// streams). Pure facts by map type name; used by map reads (refusal) and session summaries (shown on the map's line).
const NOT_READABLE: Record<string, string> = {
  ringbuf: 'a ring buffer has records, not entries: open it in the Events view',
  user_ringbuf: 'a user ring buffer is written by user space; it has no entries to read',
  perf_event_array: 'a perf event array holds perf buffers, not entries: open it in the Events view',
  prog_array: 'a program array holds program fds, which the kernel does not hand back to user space',
  cgroup_array: 'a cgroup array holds cgroup fds, which the kernel does not hand back to user space (ENOTSUPP)',
  sockmap: 'a sockmap holds sockets, which user space cannot list',
  sockhash: 'a sockhash holds sockets, which user space cannot list',
  reuseport_sockarray: 'a reuseport socket array holds sockets, which user space cannot list',
  xskmap: 'an XSK map holds AF_XDP sockets, which user space cannot list',
  sk_storage: 'socket storage is looked up by a socket fd, not listed',
  inode_storage: 'inode storage is looked up by a file fd, not listed',
  task_storage: 'task storage is looked up by a pidfd, not listed',
  cgrp_storage: 'cgroup storage is looked up by a cgroup fd, not listed',
  queue: 'a queue has no keys (reading would pop its elements)',
  stack: 'a stack has no keys (reading would pop its elements)',
  bloom_filter: 'a bloom filter answers membership queries; it cannot be listed',
  struct_ops: 'a struct_ops map has one value of kernel type; use bpftool struct_ops dump',
  arena: 'an arena is memory shared with the program, not entries',
};

/** Why user space cannot read a map of this type (libbpf's lower-case type name), or undefined when it can. */
export function unreadableReason(type: string): string | undefined {
  return NOT_READABLE[type];
}
