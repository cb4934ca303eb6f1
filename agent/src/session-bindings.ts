// Koffi bindings for the libbpf 1.1.2 calls sessions need beyond verification: maps, links and every attach
// kind, object/BTF introspection, run-time statistics, ring/perf buffers and helper probes. Talks to libbpf.so.1.
import koffi from 'koffi';
import { libbpf, type LibbpfPointer } from './libbpf';

export type SampleCallback = (data: Buffer) => void;

export interface SessionBindings {
  nextMap(obj: LibbpfPointer, prev: LibbpfPointer | null): LibbpfPointer | null;
  mapName(map: LibbpfPointer): string;
  mapFd(map: LibbpfPointer): number;
  mapIsInternal(map: LibbpfPointer): boolean;
  /** A copy of the map's initial data (for .rodata/.data: the globals' values before load). */
  mapInitialValue(map: LibbpfPointer): Buffer | null;
  setMapInitialValue(map: LibbpfPointer, data: Buffer): number;
  mapTypeName(type: number): string;
  progTypeName(type: number): string | null;
  programType(prog: LibbpfPointer): number;
  objectBtf(obj: LibbpfPointer): LibbpfPointer | null;
  btfFindByNameKind(btf: LibbpfPointer, name: string, kind: number): number;
  /** The raw bytes of one BTF type record (header + kind-specific tail) of at most `bytes` bytes. */
  btfTypeBytes(btf: LibbpfPointer, id: number, bytes: number): Buffer | null;
  btfName(btf: LibbpfPointer, offset: number): string;
  attach(prog: LibbpfPointer): LibbpfPointer | null;
  attachXdp(prog: LibbpfPointer, ifindex: number): LibbpfPointer | null;
  attachCgroup(prog: LibbpfPointer, cgroupFd: number): LibbpfPointer | null;
  attachPerfEvent(prog: LibbpfPointer, perfFd: number): LibbpfPointer | null;
  attachUprobe(prog: LibbpfPointer, retprobe: boolean, pid: number, binary: string, funcName: string): LibbpfPointer | null;
  attachUsdt(prog: LibbpfPointer, pid: number, binary: string, provider: string, name: string): LibbpfPointer | null;
  linkCreate(progFd: number, targetFd: number, attachType: number): number;
  linkDestroy(link: LibbpfPointer): void;
  /** The fd's bpf_*_info (prog or map), zero-filled buffer of `size` bytes; negative errno on failure. */
  objInfo(fd: number, size: number): Buffer | number;
  enableStats(type: number): number;
  probeProgType(progType: number): number;
  /** bpf_prog_load of raw instructions with a verifier log (for helper probes); fd or negative errno. */
  loadRawProgram(progType: number, expectedAttachType: number, progFlags: number, insns: Buffer, log: Buffer): number;
  ringBufferNew(mapFd: number, onSample: SampleCallback): LibbpfPointer | null;
  ringBufferConsume(rb: LibbpfPointer): number;
  ringBufferFree(rb: LibbpfPointer): void;
  perfBufferNew(mapFd: number, pages: number, onSample: SampleCallback, onLost: (count: number) => void): LibbpfPointer | null;
  perfBufferConsume(pb: LibbpfPointer): number;
  perfBufferFree(pb: LibbpfPointer): void;
  /** perf_event_open(2) through libc's syscall(); returns the fd or a negative errno. */
  perfEventOpen(attr: Buffer, pid: number, cpu: number): number;
  closeFd(fd: number): void;
  errno(): number;
}

let bound: SessionBindings | undefined;

export function sessionBindings(): SessionBindings {
  if (!bound) bound = bind();
  return bound;
}

const SYS_PERF_EVENT_OPEN: Record<string, number> = { x64: 298, arm64: 241, ia32: 336, arm: 364, riscv64: 241, loong64: 241 };

function bind(): SessionBindings {
  const { lib } = libbpf();
  const libc = koffi.load('libc.so.6');
  const sampleProto = koffi.proto('int ebpf_studio_ring_sample(void *ctx, void *data, size_t size)');
  const perfSampleProto = koffi.proto('void ebpf_studio_perf_sample(void *ctx, int cpu, void *data, uint32_t size)');
  const perfLostProto = koffi.proto('void ebpf_studio_perf_lost(void *ctx, int cpu, uint64_t cnt)');
  const uprobeOpts = koffi.struct('ebpf_studio_uprobe_opts', {
    sz: 'size_t',
    ref_ctr_offset: 'size_t',
    bpf_cookie: 'uint64_t',
    retprobe: 'bool',
    func_name: 'const char *',
  });

  const progLoadOpts = koffi.struct('ebpf_studio_prog_load_opts', {
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

  const f = {
    nextMap: lib.func('void *bpf_object__next_map(void *obj, void *map)'),
    mapName: lib.func('const char *bpf_map__name(void *map)'),
    mapFd: lib.func('int bpf_map__fd(void *map)'),
    mapIsInternal: lib.func('bool bpf_map__is_internal(void *map)'),
    mapInitialValue: lib.func('void *bpf_map__initial_value(void *map, _Out_ size_t *psize)'),
    setMapInitialValue: lib.func('int bpf_map__set_initial_value(void *map, const void *data, size_t size)'),
    mapTypeStr: lib.func('const char *libbpf_bpf_map_type_str(int t)'),
    progTypeStr: lib.func('const char *libbpf_bpf_prog_type_str(int t)'),
    programType: lib.func('int bpf_program__type(void *prog)'),
    objectBtf: lib.func('void *bpf_object__btf(void *obj)'),
    btfFindByNameKind: lib.func('int32_t btf__find_by_name_kind(void *btf, const char *name, uint32_t kind)'),
    btfTypeById: lib.func('void *btf__type_by_id(void *btf, uint32_t id)'),
    btfName: lib.func('const char *btf__name_by_offset(void *btf, uint32_t offset)'),
    attach: lib.func('void *bpf_program__attach(void *prog)'),
    attachXdp: lib.func('void *bpf_program__attach_xdp(void *prog, int ifindex)'),
    attachCgroup: lib.func('void *bpf_program__attach_cgroup(void *prog, int fd)'),
    attachPerfEvent: lib.func('void *bpf_program__attach_perf_event(void *prog, int pfd)'),
    attachUprobeOpts: lib.func('void *bpf_program__attach_uprobe_opts(void *prog, int pid, const char *binary, size_t offset, ebpf_studio_uprobe_opts *opts)'),
    attachUsdt: lib.func('void *bpf_program__attach_usdt(void *prog, int pid, const char *binary, const char *provider, const char *name, void *opts)'),
    linkCreate: lib.func('int bpf_link_create(int prog_fd, int target_fd, int attach_type, void *opts)'),
    linkDestroy: lib.func('int bpf_link__destroy(void *link)'),
    objInfo: lib.func('int bpf_obj_get_info_by_fd(int fd, void *info, _Inout_ uint32_t *len)'),
    enableStats: lib.func('int bpf_enable_stats(int type)'),
    progLoad: lib.func('int bpf_prog_load(int prog_type, const char *name, const char *license, const void *insns, size_t insn_cnt, ebpf_studio_prog_load_opts *opts)'),
    probeProgType: lib.func('int libbpf_probe_bpf_prog_type(int prog_type, void *opts)'),
    ringBufferNew: lib.func('void *ring_buffer__new(int map_fd, ebpf_studio_ring_sample *cb, void *ctx, void *opts)'),
    ringBufferConsume: lib.func('int ring_buffer__consume(void *rb)'),
    ringBufferFree: lib.func('void ring_buffer__free(void *rb)'),
    perfBufferNew: lib.func('void *perf_buffer__new(int map_fd, size_t page_cnt, ebpf_studio_perf_sample *sample, ebpf_studio_perf_lost *lost, void *ctx, void *opts)'),
    perfBufferConsume: lib.func('int perf_buffer__consume(void *pb)'),
    perfBufferFree: lib.func('void perf_buffer__free(void *pb)'),
    syscall5: libc.func('long syscall(long number, void *attr, int pid, int cpu, int group_fd, unsigned long flags)'),
    close: libc.func('int close(int fd)'),
  };

  /** Callbacks stay registered as long as the buffer that calls them lives. */
  const callbacks = new Map<LibbpfPointer, unknown[]>();
  const copyOut = (data: unknown, size: number): Buffer => Buffer.from(new Uint8Array(koffi.view(data as never, size) as ArrayBuffer));

  return {
    nextMap: (obj, prev) => f.nextMap(obj, prev) as LibbpfPointer | null,
    mapName: (map) => f.mapName(map) as string,
    mapFd: (map) => f.mapFd(map) as number,
    mapIsInternal: (map) => f.mapIsInternal(map) as boolean,
    mapInitialValue(map) {
      const size = [0];
      const ptr = f.mapInitialValue(map, size);
      return ptr ? copyOut(ptr, Number(size[0])) : null;
    },
    setMapInitialValue: (map, data) => f.setMapInitialValue(map, data, data.length) as number,
    mapTypeName: (type) => (f.mapTypeStr(type) as string | null) ?? `type ${type}`,
    progTypeName: (type) => f.progTypeStr(type) as string | null,
    programType: (prog) => f.programType(prog) as number,
    objectBtf: (obj) => f.objectBtf(obj) as LibbpfPointer | null,
    btfFindByNameKind: (btf, name, kind) => f.btfFindByNameKind(btf, name, kind) as number,
    btfTypeBytes(btf, id, bytes) {
      const ptr = f.btfTypeById(btf, id);
      return ptr ? copyOut(ptr, bytes) : null;
    },
    btfName: (btf, offset) => (f.btfName(btf, offset) as string | null) ?? '',
    attach: (prog) => f.attach(prog) as LibbpfPointer | null,
    attachXdp: (prog, ifindex) => f.attachXdp(prog, ifindex) as LibbpfPointer | null,
    attachCgroup: (prog, fd) => f.attachCgroup(prog, fd) as LibbpfPointer | null,
    attachPerfEvent: (prog, fd) => f.attachPerfEvent(prog, fd) as LibbpfPointer | null,
    attachUprobe(prog, retprobe, pid, binary, funcName) {
      const opts = { sz: koffi.sizeof(uprobeOpts), ref_ctr_offset: 0, bpf_cookie: 0, retprobe, func_name: funcName };
      return f.attachUprobeOpts(prog, pid, binary, 0, opts) as LibbpfPointer | null;
    },
    attachUsdt: (prog, pid, binary, provider, name) => f.attachUsdt(prog, pid, binary, provider, name, null) as LibbpfPointer | null,
    linkCreate: (progFd, targetFd, attachType) => f.linkCreate(progFd, targetFd, attachType, null) as number,
    linkDestroy: (link) => void f.linkDestroy(link),
    objInfo(fd, size) {
      const info = Buffer.alloc(size);
      const len = [size];
      const err = f.objInfo(fd, info, len) as number;
      return err < 0 ? err : info;
    },
    enableStats: (type) => f.enableStats(type) as number,
    loadRawProgram(progType, expectedAttachType, progFlags, insns, log) {
      const opts = {
        sz: koffi.sizeof(progLoadOpts), attempts: 0, expected_attach_type: expectedAttachType, prog_btf_fd: 0, prog_flags: progFlags, prog_ifindex: 0, kern_version: 0,
        attach_btf_id: 0, attach_prog_fd: 0, attach_btf_obj_fd: 0, fd_array: null, func_info: null, func_info_cnt: 0, func_info_rec_size: 0,
        line_info: null, line_info_cnt: 0, line_info_rec_size: 0, log_level: 1, log_size: log.length, log_buf: log,
      };
      const fd = f.progLoad(progType, null, 'GPL', insns, insns.length / 8, opts) as number;
      return fd < 0 ? -Math.abs(koffi.errno() || -fd) : fd;
    },
    probeProgType: (progType) => f.probeProgType(progType, null) as number,
    ringBufferNew(mapFd, onSample) {
      const cb = koffi.register((_ctx: unknown, data: unknown, size: number) => {
        onSample(copyOut(data, Number(size)));
        return 0;
      }, koffi.pointer(sampleProto));
      const rb = f.ringBufferNew(mapFd, cb, null, null) as LibbpfPointer | null;
      if (rb) callbacks.set(rb, [cb]);
      else koffi.unregister(cb);
      return rb;
    },
    ringBufferConsume: (rb) => f.ringBufferConsume(rb) as number,
    ringBufferFree(rb) {
      f.ringBufferFree(rb);
      for (const cb of callbacks.get(rb) ?? []) koffi.unregister(cb as never);
      callbacks.delete(rb);
    },
    perfBufferNew(mapFd, pages, onSample, onLost) {
      const sample = koffi.register((_ctx: unknown, _cpu: number, data: unknown, size: number) => onSample(copyOut(data, Number(size))), koffi.pointer(perfSampleProto));
      const lost = koffi.register((_ctx: unknown, _cpu: number, count: number | bigint) => onLost(Number(count)), koffi.pointer(perfLostProto));
      const pb = f.perfBufferNew(mapFd, pages, sample, lost, null, null) as LibbpfPointer | null;
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
      for (const cb of callbacks.get(pb) ?? []) koffi.unregister(cb as never);
      callbacks.delete(pb);
    },
    perfEventOpen(attr, pid, cpu) {
      const nr = SYS_PERF_EVENT_OPEN[process.arch];
      if (nr === undefined) return -38;
      const fd = Number(f.syscall5(nr, attr, pid, cpu, -1, 0));
      return fd < 0 ? -koffi.errno() : fd;
    },
    closeFd: (fd) => void f.close(fd),
    errno: () => koffi.errno(),
  };
}
