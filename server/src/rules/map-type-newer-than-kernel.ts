// Rule map-type-newer-than-kernel: a map definition whose BPF_MAP_TYPE_… the target kernel does
// not have (e.g. BPF_MAP_TYPE_RINGBUF, 5.8, on a 5.4 target): map creation fails before loading.
import type { Rule } from './rule';
import { formatKernelVersion, kernelHas } from '../kernel/kernel-version';

const HEADER = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n';

export const mapTypeNewerThanKernelRule: Rule = {
  id: 'map-type-newer-than-kernel',
  description: 'A map type is newer than the target kernel.',
  verifierMessage: "libbpf: map '<name>': failed to create: Invalid argument(-22)",
  bad: [
    {
      targetKernel: '5.4',
      code: `${HEADER}
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");
char LICENSE[] SEC("license") = "GPL";
`,
      line: 5,
    },
  ],
  good: [
    {
      targetKernel: '5.4',
      code: `${HEADER}
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} events SEC(".maps");
char LICENSE[] SEC("license") = "GPL";
`,
    },
  ],
  check(file) {
    return file.maps.flatMap((map) => {
      const since = map.type ? file.kernel.mapTypeSince(map.type) : undefined;
      if (!map.type || !since || kernelHas(file.targetKernel, since)) return [];
      return [{
        range: map.fields.type?.range ?? map.nameRange,
        message: `${map.type} needs kernel ${since}; the target kernel is ${formatKernelVersion(file.targetKernel)}`,
        verifierMessage: `libbpf: map '${map.name}': failed to create: Invalid argument(-22)`,
      }];
    });
  },
};
