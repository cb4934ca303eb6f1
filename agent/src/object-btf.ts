// The `objectBtf` method: the BTF to decode a session's ring/perf buffer records with, whose maps carry no BTF of their
// own: the one the client sent with the load (every struct of the probe), else the object's (bpf_object__btf). Talks to libbpf.
import type { AgentMethods } from '../../protocol/agent-rpc';
import { libbpf } from './ffi/libbpf';
import { getSession } from './sessions';

export function objectBtf(params: { session: string }): AgentMethods['objectBtf']['result'] {
  const session = getSession(params.session);
  const eventStructs = session.eventTypes?.byMap;
  const withStructs = eventStructs && Object.keys(eventStructs).length ? { eventStructs } : {};
  if (session.eventTypes?.btf) return { btf: session.eventTypes.btf, ...withStructs };
  const bpf = libbpf();
  const btf = bpf.objectBtf(session.obj);
  const raw = btf && bpf.btfRawData(btf);
  return raw ? { btf: raw.toString('base64'), ...withStructs } : withStructs;
}
