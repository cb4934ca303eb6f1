// The one binding of the target's libbpf.so.1 (1.1.2 API surface) through koffi: every symbol the agent, the CLI's
// in-process map reader and the tests call is declared here once, with a typed wrapper; plus libbpf's print callback.
import koffi from 'koffi';
import { AgentError } from '../agent-error';
import { libc } from './libc';

declare const pointerKind: unique symbol;
/** An opaque libbpf pointer; the kind keeps a struct bpf_map * from going where a struct bpf_program * belongs. */
type Opaque<Kind extends string> = { readonly [pointerKind]: Kind };
export type BpfObject = Opaque<'bpf_object'>;
export type BpfProgram = Opaque<'bpf_program'>;
export type BpfMap = Opaque<'bpf_map'>;
export type BpfLink = Opaque<'bpf_link'>;
export type Btf = Opaque<'btf'>;
export type RingBuffer = Opaque<'ring_buffer'>;
export type PerfBuffer = Opaque<'perf_buffer'>;

export type SampleCallback = (data: Buffer) => void;

export interface OpenOptions {
  /** Where libbpf writes the verifier log of a program that fails to load (it then prints none); referenced until close. */
  failureLog?: Buffer;
  /** Folder under which maps declared with LIBBPF_PIN_BY_NAME are pinned (libbpf's default is /sys/fs/bpf). */
  pinRootPath?: string;
}

export interface Libbpf {
  versionString(): string;
  /** Runs fn while collecting libbpf's warning/info messages; the messages are returned with fn's result. */
  captureMessages<T>(fn: () => Promise<T>): Promise<{ value: T; messages: string[] }>;

  /** Opens an ELF object from memory; throws an AgentError when it is not a BPF object. */
  openObject(bytes: Buffer, objectName: string, options?: OpenOptions): BpfObject;
  closeObject(obj: BpfObject): void;
  /** Loads the object's autoloaded programs on a worker thread; resolves to 0 or a negative errno. */
  loadObject(obj: BpfObject): Promise<number>;
  programs(obj: BpfObject): BpfProgram[];
  maps(obj: BpfObject): BpfMap[];
  findMap(obj: BpfObject, name: string): BpfMap | null;
  objectBtf(obj: BpfObject): Btf | null;
  /** Removes the pins of every map of the object that has a pin path; 0 or a negative errno. */
  unpinMaps(obj: BpfObject): number;

  programName(prog: BpfProgram): string;
  programSection(prog: BpfProgram): string;
  programInsnCount(prog: BpfProgram): number;
  programType(prog: BpfProgram): number;
  /** Whether libbpf loads the program by default (false for SEC("?...") programs). */
  autoload(prog: BpfProgram): boolean;
  setAutoload(prog: BpfProgram, autoload: boolean): void;
  /** The buffer must stay referenced until the object is closed. */
  setLogBuffer(prog: BpfProgram, buffer: Buffer, level: number): void;
  programFd(prog: BpfProgram): number;

  mapName(map: BpfMap): string;
  mapFd(map: BpfMap): number;
  mapIsInternal(map: BpfMap): boolean;
  /** Where libbpf pins the map (LIBBPF_PIN_BY_NAME), or null. */
  mapPinPath(map: BpfMap): string | null;
  setMapMaxEntries(map: BpfMap, maxEntries: number): number;
  setMapValueSize(map: BpfMap, bytes: number): number;
  /** The map's definition as the object declares it (before load); sizes are 0 where the source left them out. */
  mapDefinition(map: BpfMap): { type: number; keySize: number; valueSize: number; maxEntries: number };
  /** A copy of the map's initial data (for .rodata/.data: the globals' values before load). */
  mapInitialValue(map: BpfMap): Buffer | null;
  setMapInitialValue(map: BpfMap, data: Buffer): number;
  mapTypeName(type: number): string;
  progTypeName(type: number): string | null;
  /** The program type and expected_attach_type libbpf gives a SEC("…") name, or null when it knows no such section. */
  sectionProgramType(section: string): { progType: number; expectedAttachType: number } | null;

  btfFindByNameKind(btf: Btf, name: string, kind: number): number;
  /** The raw bytes of one BTF type record (header + kind-specific tail) of at most `bytes` bytes. */
  btfTypeBytes(btf: Btf, id: number, bytes: number): Buffer | null;
  btfName(btf: Btf, offset: number): string;
  /** A copy of the BTF's raw bytes (header, types, strings). */
  btfRawData(btf: Btf): Buffer | null;
  /** A kernel BTF object by id (a map's or program's); free it with btfFree. */
  btfLoadFromKernel(id: number): Btf | null;
  btfFree(btf: Btf): void;

  attach(prog: BpfProgram): BpfLink | null;
  attachCgroup(prog: BpfProgram, cgroupFd: number): BpfLink | null;
  attachPerfEvent(prog: BpfProgram, perfFd: number): BpfLink | null;
  attachUprobe(prog: BpfProgram, retprobe: boolean, pid: number, binary: string, funcName: string): BpfLink | null;
  attachUsdt(prog: BpfProgram, pid: number, binary: string, provider: string, name: string): BpfLink | null;
  linkCreate(progFd: number, targetFd: number, attachType: number): number;
  /** bpf_link_create with opts.flags (e.g. XDP_FLAGS_SKB_MODE); the link fd or a negative errno. */
  linkCreateWithFlags(progFd: number, targetFd: number, attachType: number, flags: number): number;
  linkDestroy(link: BpfLink): void;

  /** The fd's bpf_*_info (prog or map) in a zero-filled buffer of `size` bytes, or a negative errno. */
  objInfo(fd: number, size: number): Buffer | number;
  objGet(path: string): number;
  objPin(fd: number, path: string): number;
  mapFdById(id: number): number;
  /** bpf_map_lookup_batch; `count` holds the number wanted in and the number read out (u32, host order). */
  mapLookupBatch(fd: number, inBatch: Buffer | null, outBatch: Buffer, keys: Buffer, values: Buffer, count: Buffer): number;
  /** The same on libuv's thread pool. */
  mapLookupBatchAsync(fd: number, inBatch: Buffer | null, outBatch: Buffer, keys: Buffer, values: Buffer, count: Buffer): Promise<number>;
  mapUpdateBatch(fd: number, keys: Buffer, values: Buffer, count: Buffer): number;
  mapDeleteBatch(fd: number, keys: Buffer, count: Buffer): number;
  mapGetNextKey(fd: number, key: Buffer | null, next: Buffer): number;
  mapLookup(fd: number, key: Buffer, value: Buffer): number;
  possibleCpus(): number;

  enableStats(type: number): number;
  probeProgType(progType: number): number;
  /** bpf_prog_load of raw instructions with a verifier log (for helper probes); fd or negative errno. */
  loadRawProgram(progType: number, expectedAttachType: number, progFlags: number, insns: Buffer, log: Buffer): number;

  ringBufferNew(mapFd: number, onSample: SampleCallback): RingBuffer | null;
  ringBufferConsume(rb: RingBuffer): number;
  ringBufferFree(rb: RingBuffer): void;
  perfBufferNew(mapFd: number, pages: number, onSample: SampleCallback, onLost: (count: number) => void): PerfBuffer | null;
  perfBufferConsume(pb: PerfBuffer): number;
  perfBufferFree(pb: PerfBuffer): void;
}

const LIBBPF_WARN = 0;
const LIBBPF_INFO = 1;

let loaded: Libbpf | undefined;

/** Loads libbpf.so.1 once; a missing library becomes one message saying what to install. */
export function libbpf(): Libbpf {
  if (!loaded) loaded = bindLibbpf();
  return loaded;
}

function openLibrary(): koffi.IKoffiLib {
  try {
    return koffi.load('libbpf.so.1');
  } catch (err) {
    throw new AgentError(
      `Cannot load libbpf.so.1 on this target (${(err as Error).message}). Install libbpf 1.x, e.g. \`apt-get install libbpf1\` (Debian/Ubuntu) or \`dnf install libbpf\` (Fedora).`,
      'ENOLIBBPF',
    );
  }
}

function bindLibbpf(): Libbpf {
  const lib = openLibrary();
  const c = libc();

  for (const name of ['bpf_object', 'bpf_program', 'bpf_map', 'bpf_link', 'btf', 'ring_buffer', 'perf_buffer']) koffi.opaque(name);
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
  const uprobeOpts = koffi.struct('bpf_uprobe_opts', {
    sz: 'size_t',
    ref_ctr_offset: 'size_t',
    bpf_cookie: 'uint64_t',
    retprobe: 'bool',
    func_name: 'const char *',
  });
  const progLoadOpts = koffi.struct('bpf_prog_load_opts', {
    sz: 'size_t',
    attempts: 'int',
    expected_attach_type: 'int',
    prog_btf_fd: 'uint32_t',
    prog_flags: 'uint32_t',
    prog_ifindex: 'uint32_t',
    kern_version: 'uint32_t',
    attach_btf_id: 'uint32_t',
    attach_prog_fd: 'uint32_t',
    attach_btf_obj_fd: 'uint32_t',
    fd_array: 'void *',
    func_info: 'void *',
    func_info_cnt: 'uint32_t',
    func_info_rec_size: 'uint32_t',
    line_info: 'void *',
    line_info_cnt: 'uint32_t',
    line_info_rec_size: 'uint32_t',
    log_level: 'uint32_t',
    log_size: 'uint32_t',
    log_buf: 'void *',
  });
  const linkCreateOpts = koffi.struct('bpf_link_create_opts_flags', { sz: 'size_t', flags: 'uint32_t' });
  const printFn = koffi.proto('int libbpf_print_fn(int level, const char *fmt, void *args)');
  const ringSample = koffi.proto('int ring_buffer_sample_fn(void *ctx, void *data, size_t size)');
  const perfSample = koffi.proto('void perf_buffer_sample_fn(void *ctx, int cpu, void *data, uint32_t size)');
  const perfLost = koffi.proto('void perf_buffer_lost_fn(void *ctx, int cpu, uint64_t cnt)');

  const f = {
    versionString: lib.func('const char *libbpf_version_string(void)'),
    setPrint: lib.func('void *libbpf_set_print(libbpf_print_fn *fn)'),
    openMem: lib.func('bpf_object *bpf_object__open_mem(const void *buf, size_t size, const bpf_object_open_opts *opts)'),
    close: lib.func('void bpf_object__close(bpf_object *obj)'),
    load: lib.func('int bpf_object__load(bpf_object *obj)'),
    nextProgram: lib.func('bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prev)'),
    nextMap: lib.func('bpf_map *bpf_object__next_map(const bpf_object *obj, const bpf_map *prev)'),
    findMap: lib.func('bpf_map *bpf_object__find_map_by_name(const bpf_object *obj, const char *name)'),
    objectBtf: lib.func('btf *bpf_object__btf(const bpf_object *obj)'),
    unpinMaps: lib.func('int bpf_object__unpin_maps(bpf_object *obj, const char *path)'),
    programName: lib.func('const char *bpf_program__name(const bpf_program *prog)'),
    programSection: lib.func('const char *bpf_program__section_name(const bpf_program *prog)'),
    insnCnt: lib.func('size_t bpf_program__insn_cnt(const bpf_program *prog)'),
    programType: lib.func('int bpf_program__type(const bpf_program *prog)'),
    autoload: lib.func('bool bpf_program__autoload(const bpf_program *prog)'),
    setAutoload: lib.func('int bpf_program__set_autoload(bpf_program *prog, bool autoload)'),
    setLogBuf: lib.func('int bpf_program__set_log_buf(bpf_program *prog, void *buf, size_t size)'),
    setLogLevel: lib.func('int bpf_program__set_log_level(bpf_program *prog, uint32_t level)'),
    programFd: lib.func('int bpf_program__fd(const bpf_program *prog)'),
    mapName: lib.func('const char *bpf_map__name(const bpf_map *map)'),
    mapFd: lib.func('int bpf_map__fd(const bpf_map *map)'),
    mapIsInternal: lib.func('bool bpf_map__is_internal(const bpf_map *map)'),
    mapPinPath: lib.func('const char *bpf_map__pin_path(const bpf_map *map)'),
    setMaxEntries: lib.func('int bpf_map__set_max_entries(bpf_map *map, uint32_t max_entries)'),
    setValueSize: lib.func('int bpf_map__set_value_size(bpf_map *map, uint32_t size)'),
    mapType: lib.func('int bpf_map__type(const bpf_map *map)'),
    mapKeySize: lib.func('uint32_t bpf_map__key_size(const bpf_map *map)'),
    mapValueSize: lib.func('uint32_t bpf_map__value_size(const bpf_map *map)'),
    mapMaxEntries: lib.func('uint32_t bpf_map__max_entries(const bpf_map *map)'),
    mapInitialValue: lib.func('void *bpf_map__initial_value(bpf_map *map, _Out_ size_t *psize)'),
    setMapInitialValue: lib.func('int bpf_map__set_initial_value(bpf_map *map, const void *data, size_t size)'),
    mapTypeStr: lib.func('const char *libbpf_bpf_map_type_str(int t)'),
    progTypeStr: lib.func('const char *libbpf_bpf_prog_type_str(int t)'),
    progTypeByName: lib.func('int libbpf_prog_type_by_name(const char *name, _Out_ int *prog_type, _Out_ int *expected_attach_type)'),
    btfFindByNameKind: lib.func('int32_t btf__find_by_name_kind(const btf *btf, const char *name, uint32_t kind)'),
    btfTypeById: lib.func('const void *btf__type_by_id(const btf *btf, uint32_t id)'),
    btfName: lib.func('const char *btf__name_by_offset(const btf *btf, uint32_t offset)'),
    btfRawData: lib.func('const void *btf__raw_data(const btf *btf, _Out_ uint32_t *size)'),
    btfLoadFromKernel: lib.func('btf *btf__load_from_kernel_by_id(uint32_t id)'),
    btfFree: lib.func('void btf__free(btf *btf)'),
    attach: lib.func('bpf_link *bpf_program__attach(const bpf_program *prog)'),
    attachCgroup: lib.func('bpf_link *bpf_program__attach_cgroup(const bpf_program *prog, int cgroup_fd)'),
    attachPerfEvent: lib.func('bpf_link *bpf_program__attach_perf_event(const bpf_program *prog, int pfd)'),
    attachUprobeOpts: lib.func('bpf_link *bpf_program__attach_uprobe_opts(const bpf_program *prog, int pid, const char *binary_path, size_t func_offset, const bpf_uprobe_opts *opts)'),
    attachUsdt: lib.func('bpf_link *bpf_program__attach_usdt(const bpf_program *prog, int pid, const char *binary_path, const char *usdt_provider, const char *usdt_name, const void *opts)'),
    linkCreate: lib.func('int bpf_link_create(int prog_fd, int target_fd, int attach_type, const void *opts)'),
    linkCreateOpts: lib.func('int bpf_link_create(int prog_fd, int target_fd, int attach_type, const bpf_link_create_opts_flags *opts)'),
    linkDestroy: lib.func('int bpf_link__destroy(bpf_link *link)'),
    objInfo: lib.func('int bpf_obj_get_info_by_fd(int bpf_fd, void *info, _Inout_ uint32_t *info_len)'),
    objGet: lib.func('int bpf_obj_get(const char *pathname)'),
    objPin: lib.func('int bpf_obj_pin(int fd, const char *pathname)'),
    mapFdById: lib.func('int bpf_map_get_fd_by_id(uint32_t id)'),
    lookupBatch: lib.func('int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, const void *opts)'),
    updateBatch: lib.func('int bpf_map_update_batch(int fd, const void *keys, const void *values, void *count, const void *opts)'),
    deleteBatch: lib.func('int bpf_map_delete_batch(int fd, const void *keys, void *count, const void *opts)'),
    getNextKey: lib.func('int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
    lookup: lib.func('int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
    possibleCpus: lib.func('int libbpf_num_possible_cpus(void)'),
    enableStats: lib.func('int bpf_enable_stats(int type)'),
    progLoad: lib.func('int bpf_prog_load(int prog_type, const char *prog_name, const char *license, const void *insns, size_t insn_cnt, bpf_prog_load_opts *opts)'),
    probeProgType: lib.func('int libbpf_probe_bpf_prog_type(int prog_type, const void *opts)'),
    ringBufferNew: lib.func('ring_buffer *ring_buffer__new(int map_fd, ring_buffer_sample_fn *sample_cb, void *ctx, const void *opts)'),
    ringBufferConsume: lib.func('int ring_buffer__consume(ring_buffer *rb)'),
    ringBufferFree: lib.func('void ring_buffer__free(ring_buffer *rb)'),
    perfBufferNew: lib.func('perf_buffer *perf_buffer__new(int map_fd, size_t page_cnt, perf_buffer_sample_fn *sample_cb, perf_buffer_lost_fn *lost_cb, void *ctx, const void *opts)'),
    perfBufferConsume: lib.func('int perf_buffer__consume(perf_buffer *pb)'),
    perfBufferFree: lib.func('void perf_buffer__free(perf_buffer *pb)'),
  };

  let sink: string[] | undefined;
  const formatBuffer = Buffer.alloc(64 * 1024);
  const printCallback = koffi.register((level: number, fmt: string, args: unknown) => {
    if (!sink || level > LIBBPF_INFO) return 0;
    const n = c.vsnprintf(formatBuffer, fmt, args);
    const text = formatBuffer.toString('utf8', 0, Math.max(0, Math.min(n, formatBuffer.length - 1)));
    sink.push((level === LIBBPF_WARN ? '' : 'info: ') + text.trimEnd());
    return 0;
  }, koffi.pointer(printFn));
  f.setPrint(printCallback);

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

  /** Callbacks stay registered as long as the buffer that calls them lives. */
  const callbacks = new Map<RingBuffer | PerfBuffer, ReturnType<typeof koffi.register>[]>();
  const unregister = (reader: RingBuffer | PerfBuffer) => {
    for (const cb of callbacks.get(reader) ?? []) koffi.unregister(cb);
    callbacks.delete(reader);
  };
  const copyOut = (data: unknown, size: number): Buffer => Buffer.from(new Uint8Array(koffi.view(data as never, size) as ArrayBuffer));
  const iterate = <T>(next: (prev: T | null) => T | null): T[] => {
    const list: T[] = [];
    for (let p = next(null); p; p = next(p)) list.push(p);
    return list;
  };

  return {
    versionString: () => f.versionString() as string,
    captureMessages,

    openObject(bytes, objectName, options = {}) {
      const { failureLog, pinRootPath } = options;
      const opts = {
        sz: koffi.sizeof(openOpts), object_name: objectName, relaxed_maps: false, pin_root_path: pinRootPath ?? null, attach_prog_fd_stub: 0, kconfig: null, btf_custom_path: null,
        // Level 0: no log while loading succeeds; libbpf retries a failing load once with level 1 into this buffer.
        kernel_log_buf: failureLog ?? null, kernel_log_size: failureLog?.length ?? 0, kernel_log_level: 0,
      };
      const obj = f.openMem(bytes, bytes.length, opts) as BpfObject | null;
      if (!obj) {
        throw new AgentError(`libbpf cannot open ${objectName} as a BPF object (errno ${c.errno()}). Is it an ELF file compiled with clang -target bpf?`, 'ENOTBPF');
      }
      return obj;
    },
    closeObject: (obj) => void f.close(obj),
    loadObject: (obj) =>
      new Promise<number>((resolve, reject) => {
        f.load.async(obj, (err: unknown, res: number) => (err ? reject(err) : resolve(res)));
      }),
    programs: (obj) => iterate<BpfProgram>((prev) => f.nextProgram(obj, prev) as BpfProgram | null),
    maps: (obj) => iterate<BpfMap>((prev) => f.nextMap(obj, prev) as BpfMap | null),
    findMap: (obj, name) => f.findMap(obj, name) as BpfMap | null,
    objectBtf: (obj) => f.objectBtf(obj) as Btf | null,
    unpinMaps: (obj) => f.unpinMaps(obj, null) as number,

    programName: (prog) => f.programName(prog) as string,
    programSection: (prog) => f.programSection(prog) as string,
    programInsnCount: (prog) => Number(f.insnCnt(prog)),
    programType: (prog) => f.programType(prog) as number,
    autoload: (prog) => Boolean(f.autoload(prog)),
    setAutoload: (prog, autoload) => void f.setAutoload(prog, autoload),
    setLogBuffer(prog, buffer, level) {
      f.setLogBuf(prog, buffer, buffer.length);
      f.setLogLevel(prog, level);
    },
    programFd: (prog) => f.programFd(prog) as number,

    mapName: (map) => f.mapName(map) as string,
    mapFd: (map) => f.mapFd(map) as number,
    mapIsInternal: (map) => Boolean(f.mapIsInternal(map)),
    mapPinPath: (map) => f.mapPinPath(map) as string | null,
    setMapMaxEntries: (map, maxEntries) => f.setMaxEntries(map, maxEntries) as number,
    setMapValueSize: (map, bytes) => f.setValueSize(map, bytes) as number,
    mapDefinition: (map) => ({
      type: f.mapType(map) as number, keySize: f.mapKeySize(map) as number, valueSize: f.mapValueSize(map) as number, maxEntries: f.mapMaxEntries(map) as number,
    }),
    mapInitialValue(map) {
      const size = [0];
      const ptr = f.mapInitialValue(map, size);
      return ptr ? copyOut(ptr, Number(size[0])) : null;
    },
    setMapInitialValue: (map, data) => f.setMapInitialValue(map, data, data.length) as number,
    mapTypeName: (type) => (f.mapTypeStr(type) as string | null) ?? `type ${type}`,
    progTypeName: (type) => f.progTypeStr(type) as string | null,
    sectionProgramType(section) {
      const progType = [0];
      const expectedAttachType = [0];
      if ((f.progTypeByName(section, progType, expectedAttachType) as number) < 0) return null;
      return { progType: progType[0], expectedAttachType: expectedAttachType[0] };
    },

    btfFindByNameKind: (btf, name, kind) => f.btfFindByNameKind(btf, name, kind) as number,
    btfTypeBytes(btf, id, bytes) {
      const ptr = f.btfTypeById(btf, id);
      return ptr ? copyOut(ptr, bytes) : null;
    },
    btfName: (btf, offset) => (f.btfName(btf, offset) as string | null) ?? '',
    btfRawData(btf) {
      const size = [0];
      const data = f.btfRawData(btf, size);
      return data ? copyOut(data, size[0]) : null;
    },
    btfLoadFromKernel: (id) => f.btfLoadFromKernel(id) as Btf | null,
    btfFree: (btf) => void f.btfFree(btf),

    attach: (prog) => f.attach(prog) as BpfLink | null,
    attachCgroup: (prog, fd) => f.attachCgroup(prog, fd) as BpfLink | null,
    attachPerfEvent: (prog, fd) => f.attachPerfEvent(prog, fd) as BpfLink | null,
    attachUprobe(prog, retprobe, pid, binary, funcName) {
      const opts = { sz: koffi.sizeof(uprobeOpts), ref_ctr_offset: 0, bpf_cookie: 0, retprobe, func_name: funcName };
      return f.attachUprobeOpts(prog, pid, binary, 0, opts) as BpfLink | null;
    },
    attachUsdt: (prog, pid, binary, provider, name) => f.attachUsdt(prog, pid, binary, provider, name, null) as BpfLink | null,
    linkCreate: (progFd, targetFd, attachType) => f.linkCreate(progFd, targetFd, attachType, null) as number,
    linkCreateWithFlags(progFd, targetFd, attachType, flags) {
      const fd = f.linkCreateOpts(progFd, targetFd, attachType, { sz: koffi.sizeof(linkCreateOpts), flags }) as number;
      return fd < 0 ? -Math.abs(c.errno() || -fd) : fd;
    },
    linkDestroy: (link) => void f.linkDestroy(link),

    objInfo(fd, size) {
      const info = Buffer.alloc(size);
      const err = f.objInfo(fd, info, [size]) as number;
      return err < 0 ? err : info;
    },
    objGet: (path) => f.objGet(path) as number,
    objPin: (fd, path) => f.objPin(fd, path) as number,
    mapFdById: (id) => f.mapFdById(id) as number,
    mapLookupBatch: (fd, inBatch, outBatch, keys, values, count) => f.lookupBatch(fd, inBatch, outBatch, keys, values, count, null) as number,
    mapLookupBatchAsync: (fd, inBatch, outBatch, keys, values, count) =>
      new Promise<number>((resolve, reject) => {
        f.lookupBatch.async(fd, inBatch, outBatch, keys, values, count, null, (err: unknown, rc: number) => (err ? reject(err) : resolve(rc)));
      }),
    mapUpdateBatch: (fd, keys, values, count) => f.updateBatch(fd, keys, values, count, null) as number,
    mapDeleteBatch: (fd, keys, count) => f.deleteBatch(fd, keys, count, null) as number,
    mapGetNextKey: (fd, key, next) => f.getNextKey(fd, key, next) as number,
    mapLookup: (fd, key, value) => f.lookup(fd, key, value) as number,
    possibleCpus: () => f.possibleCpus() as number,

    enableStats: (type) => f.enableStats(type) as number,
    probeProgType: (progType) => f.probeProgType(progType, null) as number,
    loadRawProgram(progType, expectedAttachType, progFlags, insns, log) {
      const opts = {
        sz: koffi.sizeof(progLoadOpts), attempts: 0, expected_attach_type: expectedAttachType, prog_btf_fd: 0, prog_flags: progFlags, prog_ifindex: 0, kern_version: 0,
        attach_btf_id: 0, attach_prog_fd: 0, attach_btf_obj_fd: 0, fd_array: null, func_info: null, func_info_cnt: 0, func_info_rec_size: 0,
        line_info: null, line_info_cnt: 0, line_info_rec_size: 0, log_level: 1, log_size: log.length, log_buf: log,
      };
      const fd = f.progLoad(progType, null, 'GPL', insns, insns.length / 8, opts) as number;
      return fd < 0 ? -Math.abs(c.errno() || -fd) : fd;
    },

    ringBufferNew(mapFd, onSample) {
      const cb = koffi.register((_ctx: unknown, data: unknown, size: number) => {
        onSample(copyOut(data, Number(size)));
        return 0;
      }, koffi.pointer(ringSample));
      const rb = f.ringBufferNew(mapFd, cb, null, null) as RingBuffer | null;
      if (rb) callbacks.set(rb, [cb]);
      else koffi.unregister(cb);
      return rb;
    },
    ringBufferConsume: (rb) => f.ringBufferConsume(rb) as number,
    ringBufferFree(rb) {
      f.ringBufferFree(rb);
      unregister(rb);
    },
    perfBufferNew(mapFd, pages, onSample, onLost) {
      const sample = koffi.register((_ctx: unknown, _cpu: number, data: unknown, size: number) => onSample(copyOut(data, Number(size))), koffi.pointer(perfSample));
      const lost = koffi.register((_ctx: unknown, _cpu: number, count: number | bigint) => onLost(Number(count)), koffi.pointer(perfLost));
      const pb = f.perfBufferNew(mapFd, pages, sample, lost, null, null) as PerfBuffer | null;
      if (pb) callbacks.set(pb, [sample, lost]);
      else {
        koffi.unregister(sample);
        koffi.unregister(lost);
      }
      return pb;
    },
    perfBufferConsume: (pb) => f.perfBufferConsume(pb) as number,
    perfBufferFree(pb) {
      f.perfBufferFree(pb);
      unregister(pb);
    },
  };
}
