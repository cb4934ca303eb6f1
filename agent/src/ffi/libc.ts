// The agent's one binding of glibc (libc.so.6) through koffi, loaded once: close, _exit, vsnprintf (for libbpf's
// printf-style messages), perf_event_open through syscall() and the calling thread's errno. Each symbol once, typed.
import koffi from 'koffi';
import { AgentError } from '../agent-error';

export interface Libc {
  close(fd: number): number;
  /** Ends the process at once: no atexit handlers, no joining of threads still inside a syscall. */
  exit(code: number): never;
  /** vsnprintf into `buffer` from a C format and its va_list (as libbpf's print callback receives them). */
  vsnprintf(buffer: Buffer, format: string, args: unknown): number;
  /** perf_event_open(2); returns the fd or a negative errno. */
  perfEventOpen(attr: Buffer, pid: number, cpu: number, groupFd: number, flags: number): number;
  /** errno of the last foreign call on this thread. */
  errno(): number;
}

const SYS_PERF_EVENT_OPEN: Record<string, number> = { x64: 298, arm64: 241, ia32: 336, arm: 364, riscv64: 241, loong64: 241 };
const ENOSYS = 38;

let loaded: Libc | undefined;

export function libc(): Libc {
  if (!loaded) loaded = bindLibc();
  return loaded;
}

function bindLibc(): Libc {
  let lib: koffi.IKoffiLib;
  try {
    lib = koffi.load('libc.so.6');
  } catch (err) {
    throw new AgentError(`Cannot load libc.so.6 on this target (${(err as Error).message}). The agent needs glibc.`, 'ENOLIBC');
  }
  const close = lib.func('int close(int fd)');
  const exit = lib.func('void _exit(int status)');
  const vsnprintf = lib.func('int vsnprintf(void *buf, size_t size, const char *fmt, void *args)');
  const syscallPerfEventOpen = lib.func('long syscall(long number, const void *attr, int pid, int cpu, int group_fd, unsigned long flags)');
  return {
    close: (fd) => close(fd) as number,
    exit(code) {
      exit(code);
      throw new Error('_exit returned');
    },
    vsnprintf: (buffer, format, args) => vsnprintf(buffer, buffer.length, format, args) as number,
    perfEventOpen(attr, pid, cpu, groupFd, flags) {
      const nr = SYS_PERF_EVENT_OPEN[process.arch];
      if (nr === undefined) return -ENOSYS;
      const fd = Number(syscallPerfEventOpen(nr, attr, pid, cpu, groupFd, flags));
      return fd < 0 ? -koffi.errno() : fd;
    },
    errno: () => koffi.errno(),
  };
}
