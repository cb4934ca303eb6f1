// Ends the agent at once through libc's _exit(), without waiting for worker threads still inside a bpf()
// syscall (Node's own exit joins them); the kernel then closes every fd, detaching and freeing everything.
import { libc } from './ffi/libc';

export function exitImmediately(code: number): never {
  try {
    libc().exit(code);
  } catch {
    // libc could not be bound: fall back to Node's exit, which waits for running syscalls to return.
  }
  process.exit(code);
}
