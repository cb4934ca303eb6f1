// Rule map-type-newer-than-kernel: a map definition whose BPF_MAP_TYPE_… the target kernel does
// not have (e.g. BPF_MAP_TYPE_RINGBUF, 5.8, on a 5.4 target): map creation fails before loading.
import type { Rule } from './rule';
import { formatKernelVersion, kernelHas } from '../kernel/kernel-version';


export const mapTypeNewerThanKernelRule: Rule = {
  id: 'map-type-newer-than-kernel',
  description: 'A map type is newer than the target kernel.',
  verifierMessage: "libbpf: map '<name>': failed to create: Invalid argument(-22)",
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
