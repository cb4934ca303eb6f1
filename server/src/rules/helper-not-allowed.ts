// Rule helper-not-allowed: a helper called from a program type whose func_proto table does not
// offer it (e.g. bpf_skb_load_bytes in a kprobe), on the target kernel.
import type { Rule } from './rule';
import { helperCallLabel } from '../analysis/probe-file';
import { formatKernelVersion } from '../kernel/kernel-version';
import type { ProgramType } from '../kernel/program-types';


/** Program types whose helper set depends on what they attach to; the data cannot judge them. */
const NOT_JUDGED: ReadonlySet<ProgramType> = new Set(['ext', 'struct_ops']);

export const helperNotAllowedRule: Rule = {
  id: 'helper-not-allowed',
  description: 'A helper is called from a program type that may not call it.',
  verifierMessage: 'program of this type cannot use helper <name>#<id>',
  checkFunction(file, fn) {
    const types = fn.programTypes.filter((type) => !NOT_JUDGED.has(type));
    if (types.length === 0) return [];
    return fn.helperCalls.flatMap((call) => {
      const availability = file.helperAvailability;
      const refusing = types.filter((type) => !availability.allowedIn(call.helper, type, file.targetKernel));
      if (refusing.length === 0) return [];
      const laterSince = refusing.filter((type) => !availability.isLive(type)).map((type) => call.helper.programTypesSince[type]).find((since) => since != null);
      const via = fn.isProgram ? '' : ` (${fn.name} is called from ${refusing.join('/')} programs)`;
      const source = ` [${[...new Set(refusing.map((type) => availability.sourceOf(type)))].join('; ')}]`;
      const message = laterSince && call.helper.programTypes.includes(refusing[0])
        ? `${helperCallLabel(call)} is available to ${refusing.join('/')} programs only from kernel ${laterSince}; the target kernel is ${formatKernelVersion(file.targetKernel)}${via}${source}`
        : `${helperCallLabel(call)} is not available to ${refusing.join('/')} programs${via}${source}`;
      return [{
        range: file.rangeOf(call.nameNode),
        message,
        verifierMessage: `program of this type cannot use helper ${call.helper.name}#${call.helper.id}`,
      }];
    });
  },
};
