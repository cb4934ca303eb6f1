// Typed bindings to the target's libbpf.so.1 (1.1.2 API surface only) through koffi, plus capture of
// libbpf's own warnings (its print callback, formatted with libc's vsnprintf) so callers can show them.
import koffi from 'koffi';
import { AgentError } from './agent-error';

/** An opaque libbpf pointer (struct bpf_object *, struct bpf_program *, …). */
export type LibbpfPointer = object;

export interface Libbpf {
  versionString(): string;
  /**
   * Opens an ELF object from memory; throws an AgentError with libbpf's warnings when it is not a BPF object.
   * With `failureLog`, libbpf writes the verifier log of a program that fails to load there (and prints none); the buffer
   * must stay referenced until the object is closed.
   */
  openObject(bytes: Buffer, objectName: string, failureLog?: Buffer): LibbpfPointer;
  closeObject(obj: LibbpfPointer): void;
  /** Loads the object's autoloaded programs on a worker thread; resolves to 0 or a negative errno. */
  loadObject(obj: LibbpfPointer): Promise<number>;
  programs(obj: LibbpfPointer): LibbpfPointer[];
  programName(prog: LibbpfPointer): string;
  programSection(prog: LibbpfPointer): string;
  programInsnCount(prog: LibbpfPointer): number;
  /** Whether libbpf loads the program by default (false for SEC("?...") programs). */
  autoload(prog: LibbpfPointer): boolean;
  setAutoload(prog: LibbpfPointer, autoload: boolean): void;
  /** The buffer must stay referenced until the object is closed. */
  setLogBuffer(prog: LibbpfPointer, buffer: Buffer, level: number): void;
  programFd(prog: LibbpfPointer): number;
  /** Runs fn while collecting libbpf's warning/info messages; the messages are returned with fn's result. */
  captureMessages<T>(fn: () => Promise<T>): Promise<{ value: T; messages: string[] }>;
  /** The raw koffi library, for bindings that other agent modules declare themselves. */
  lib: koffi.IKoffiLib;
}

const LIBBPF_WARN = 0;
const LIBBPF_INFO = 1;

let loaded: Libbpf | undefined;

/** Loads libbpf.so.1 once; a missing library becomes one message saying what to install. */
export function libbpf(): Libbpf {
  if (!loaded) loaded = bindLibbpf();
  return loaded;
}

function openLibrary(name: string, installHint: string): koffi.IKoffiLib {
  try {
    return koffi.load(name);
  } catch (err) {
    throw new AgentError(`Cannot load ${name} on this target (${(err as Error).message}). ${installHint}`, 'ENOLIBBPF');
  }
}

function bindLibbpf(): Libbpf {
  const lib = openLibrary('libbpf.so.1', 'Install libbpf 1.x, e.g. `apt-get install libbpf1` (Debian/Ubuntu) or `dnf install libbpf` (Fedora).');
  const libc = openLibrary('libc.so.6', 'The agent needs glibc.');

  const openOpts = koffi.struct('bpf_object_open_opts', {
    sz: 'size_t',
    object_name: 'const char *',
    relaxed_maps: 'bool',
    pin_root_path: 'const char *',
    attach_prog_fd_stub: 'uint32_t',
    kconfig: 'const char *',
    btf_custom_path: 'const char *',
    kernel_log_buf: 'void *',
    kernel_log_size: 'size_t',
    kernel_log_level: 'uint32_t',
  });
  koffi.opaque('bpf_object');
  koffi.opaque('bpf_program');
  const printFn = koffi.proto('int libbpf_print_fn(int level, const char *fmt, void *args)');

  const versionString = lib.func('const char *libbpf_version_string(void)');
  const openMem = lib.func('bpf_object *bpf_object__open_mem(const void *buf, size_t size, const bpf_object_open_opts *opts)');
  const close = lib.func('void bpf_object__close(bpf_object *obj)');
  const load = lib.func('int bpf_object__load(bpf_object *obj)');
  const nextProgram = lib.func('bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prev)');
  const name = lib.func('const char *bpf_program__name(const bpf_program *prog)');
  const section = lib.func('const char *bpf_program__section_name(const bpf_program *prog)');
  const insnCnt = lib.func('size_t bpf_program__insn_cnt(const bpf_program *prog)');
  const getAutoload = lib.func('bool bpf_program__autoload(const bpf_program *prog)');
  const setAutoload = lib.func('int bpf_program__set_autoload(bpf_program *prog, bool autoload)');
  const setLogBuf = lib.func('int bpf_program__set_log_buf(bpf_program *prog, void *buf, size_t size)');
  const setLogLevel = lib.func('int bpf_program__set_log_level(bpf_program *prog, uint32_t level)');
  const fd = lib.func('int bpf_program__fd(const bpf_program *prog)');
  const setPrint = lib.func('void *libbpf_set_print(libbpf_print_fn *fn)');
  const vsnprintf = libc.func('int vsnprintf(void *buf, size_t size, const char *fmt, void *args)');

  let sink: string[] | undefined;
  const formatBuffer = Buffer.alloc(64 * 1024);
  const printCallback = koffi.register((level: number, fmt: string, args: unknown) => {
    if (!sink || level > LIBBPF_INFO) return 0;
    const n = vsnprintf(formatBuffer, formatBuffer.length, fmt, args) as number;
    const text = formatBuffer.toString('utf8', 0, Math.max(0, Math.min(n, formatBuffer.length - 1)));
    sink.push((level === LIBBPF_WARN ? '' : 'info: ') + text.trimEnd());
    return 0;
  }, koffi.pointer(printFn));
  setPrint(printCallback);

  let captureQueue: Promise<unknown> = Promise.resolve();
  const captureMessages = <T>(fn: () => Promise<T>): Promise<{ value: T; messages: string[] }> => {
    const run = async () => {
      const messages: string[] = [];
      sink = messages;
      try {
        return { value: await fn(), messages };
      } finally {
        sink = undefined;
      }
    };
    const result = captureQueue.then(run, run);
    captureQueue = result.catch(() => undefined);
    return result;
  };

  return {
    lib,
    versionString: () => versionString() as string,
    openObject(bytes, objectName, failureLog) {
      const opts = {
        sz: koffi.sizeof(openOpts), object_name: objectName, relaxed_maps: false, pin_root_path: null, attach_prog_fd_stub: 0, kconfig: null, btf_custom_path: null,
        // Level 0: no log while loading succeeds; libbpf retries a failing load once with level 1 into this buffer.
        kernel_log_buf: failureLog ?? null, kernel_log_size: failureLog?.length ?? 0, kernel_log_level: 0,
      };
      const obj = openMem(bytes, bytes.length, opts) as LibbpfPointer | null;
      if (!obj) {
        const errno = koffi.errno();
        throw new AgentError(`libbpf cannot open ${objectName} as a BPF object (errno ${errno}). Is it an ELF file compiled with clang -target bpf?`, 'ENOTBPF');
      }
      return obj;
    },
    closeObject: (obj) => close(obj),
    loadObject: (obj) =>
      new Promise<number>((resolve, reject) => {
        load.async(obj, (err: unknown, res: number) => (err ? reject(err) : resolve(res)));
      }),
    programs(obj) {
      const list: LibbpfPointer[] = [];
      for (let p = nextProgram(obj, null) as LibbpfPointer | null; p; p = nextProgram(obj, p) as LibbpfPointer | null) list.push(p);
      return list;
    },
    programName: (prog) => name(prog) as string,
    programSection: (prog) => section(prog) as string,
    programInsnCount: (prog) => Number(insnCnt(prog)),
    autoload: (prog) => Boolean(getAutoload(prog)),
    setAutoload: (prog, autoload) => void setAutoload(prog, autoload),
    setLogBuffer(prog, buffer, level) {
      setLogBuf(prog, buffer, buffer.length);
      setLogLevel(prog, level);
    },
    programFd: (prog) => fd(prog) as number,
    captureMessages,
  };
}
