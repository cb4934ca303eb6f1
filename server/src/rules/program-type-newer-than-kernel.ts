// Rule program-type-newer-than-kernel: a program whose SEC("…") gives a program type (or attach
// type) the target kernel does not have, e.g. SEC("lsm/…") (5.7) or SEC("tcx/ingress") (6.6).
import type { Rule } from './rule';
import { formatKernelVersion, kernelHas } from '../kernel/kernel-version';


export const programTypeNewerThanKernelRule: Rule = {
  id: 'program-type-newer-than-kernel',
  description: 'A program type or attach type is newer than the target kernel.',
  verifierMessage: 'libbpf: prog \'<name>\': BPF program load failed: Invalid argument',
  check(file) {
    const target = formatKernelVersion(file.targetKernel);
    return file.programs.flatMap((fn) => {
      const match = fn.sectionMatch;
      if (!match || !fn.sectionRange) return [];
      const typeSince = file.kernel.programTypeSince(match.programType);
      if (typeSince && !kernelHas(file.targetKernel, typeSince)) {
        return [{
          range: fn.sectionRange,
          message: `SEC("${fn.section}") makes a ${match.programType} program, which needs kernel ${typeSince}; the target kernel is ${target}`,
          verifierMessage: `libbpf: prog '${fn.name}': BPF program load failed: Invalid argument`,
        }];
      }
      // libbpf loads these without the attach type when the kernel does not know it
      const attachType = match.definition.attachOptional ? undefined : match.definition.attachType;
      const attachSince = attachType ? file.kernel.attachTypeSince(attachType) : undefined;
      if (attachType && attachSince && !kernelHas(file.targetKernel, attachSince)) {
        return [{
          range: fn.sectionRange,
          message: `SEC("${fn.section}") attaches as ${attachType}, which needs kernel ${attachSince}; the target kernel is ${target}`,
          verifierMessage: `libbpf: prog '${fn.name}': BPF program load failed: Invalid argument`,
        }];
      }
      return [];
    });
  },
};
