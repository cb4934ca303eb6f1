// The `objectBtf` method: the raw BTF of a session's object as the kernel holds it (bpf_object__btf), so
// clients can decode ring/perf buffer records, whose maps carry no BTF of their own. Talks to libbpf.
import koffi from 'koffi';
import { endianness } from 'node:os';
import { libbpf } from './libbpf';
import { getSession } from './sessions';

let bindings: { objectBtf(obj: object): object | null; rawData(btf: object, size: Buffer): object | null } | undefined;

function bind() {
  if (bindings) return bindings;
  const lib = libbpf().lib;
  const objectBtf = lib.func('void *bpf_object__btf(const void *obj)');
  const rawData = lib.func('const void *btf__raw_data(const void *btf, void *size)');
  bindings = { objectBtf: (obj) => objectBtf(obj) as object | null, rawData: (btf, size) => rawData(btf, size) as object | null };
  return bindings;
}

export function objectBtf(params: { session: string }): { btf?: string } {
  const session = getSession(params.session);
  const b = bind();
  const btf = b.objectBtf(session.obj);
  if (!btf) return {};
  const size = Buffer.alloc(4);
  const data = b.rawData(btf, size);
  if (!data) return {};
  const length = endianness() === 'LE' ? size.readUInt32LE(0) : size.readUInt32BE(0);
  return { btf: Buffer.from(koffi.view(data, length)).toString('base64') };
}
