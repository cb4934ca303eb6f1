// The `objectBtf` method: the raw BTF of a session's object as the kernel holds it (bpf_object__btf), so
// clients can decode ring/perf buffer records, whose maps carry no BTF of their own. Talks to libbpf.
import { libbpf } from './ffi/libbpf';
import { getSession } from './sessions';

export function objectBtf(params: { session: string }): { btf?: string } {
  const session = getSession(params.session);
  const bpf = libbpf();
  const btf = bpf.objectBtf(session.obj);
  const raw = btf && bpf.btfRawData(btf);
  return raw ? { btf: raw.toString('base64') } : {};
}
