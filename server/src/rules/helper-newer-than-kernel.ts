// Rule helper-newer-than-kernel: a helper that the target kernel (ebpfStudio.targetKernel or
// --kernel, default this machine's) does not have yet, e.g. bpf_loop (5.17) on 5.15.
import type { Rule } from './rule';
import { helperCallLabel } from '../analysis/probe-file';
import { formatKernelVersion, kernelHas } from '../kernel/kernel-version';

/**
 * Helpers libbpf rewrites to an older one when the kernel lacks them (bpf_object__sanitize_prog:
 * probe_read_kernel/user → probe_read), so only the older one must exist.
 */
const LIBBPF_FALLBACKS: Readonly<Record<string, string>> = {
  bpf_probe_read_kernel: 'bpf_probe_read',
  bpf_probe_read_user: 'bpf_probe_read',
  bpf_probe_read_kernel_str: 'bpf_probe_read_str',
  bpf_probe_read_user_str: 'bpf_probe_read_str',
};


export const helperNewerThanKernelRule: Rule = {
  id: 'helper-newer-than-kernel',
  description: 'A helper is newer than the target kernel.',
  verifierMessage: 'invalid func unknown#<id>',
  checkFunction(file, fn) {
    const since = (name: string, own: string | null) => (Object.hasOwn(LIBBPF_FALLBACKS, name) ? file.kernel.helper(LIBBPF_FALLBACKS[name])?.since : own);
    return fn.helperCalls
      .filter((call) => !kernelHas(file.targetKernel, since(call.helper.name, call.helper.since)))
      .map((call) => ({
        range: file.rangeOf(call.nameNode),
        message: `${helperCallLabel(call)} needs kernel ${since(call.helper.name, call.helper.since)}; the target kernel is ${formatKernelVersion(file.targetKernel)}`,
        verifierMessage: `invalid func unknown#${call.helper.id}`,
      }));
  },
};
