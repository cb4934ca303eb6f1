// Rule license-missing: a file with programs but no SEC("license") declaration. An error at each
// GPL-only helper call (the kernel refuses those), a warning on the first program otherwise.
import type { Rule } from './rule';
import { helperCallLabel } from '../analysis/probe-file';
import { addLicenseFix } from './license-fix';

const HEADER = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n';

export const licenseMissingRule: Rule = {
  id: 'license-missing',
  description: 'The file declares no licence; GPL-only helpers (bpf_printk, bpf_probe_read_kernel …) are then refused.',
  verifierMessage: 'cannot call GPL-restricted function from non-GPL compatible program',
  bad: [
    {
      code: `${HEADER}
SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(void *ctx)
{
	bpf_printk("openat");
	return 0;
}
`,
      line: 7,
    },
    {
      code: `${HEADER}
SEC("xdp")
int pass_all(struct xdp_md *ctx)
{
	return XDP_PASS;
}
`,
      line: 4,
    },
  ],
  good: [
    {
      code: `${HEADER}
SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(void *ctx)
{
	bpf_printk("openat");
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`,
    },
    {
      code: `${HEADER}
static __always_inline int twice(int x) { return 2 * x; }
`,
    },
    {
      code: `${HEADER}
#define LICENSE_STRING "Dual BSD/GPL"
SEC("tracepoint/syscalls/sys_enter_openat")
int trace_openat(void *ctx)
{
	bpf_printk("openat");
	return 0;
}
char LICENSE[] SEC("license") = LICENSE_STRING;
`,
    },
  ],
  check(file) {
    const first = file.programs[0];
    if (file.license || !first) return [];
    return [{
      range: first.sectionRange ?? first.nameRange,
      severity: 'warning',
      message: 'No licence: add char LICENSE[] SEC("license") = "GPL"; (or "Dual BSD/GPL"), or the kernel refuses every GPL-only helper',
      fix: addLicenseFix(file),
    }];
  },
  checkFunction(file, fn) {
    if (file.license) return [];
    return fn.helperCalls
      .filter((call) => call.helper.gplOnly)
      .map((call) => ({
        range: file.rangeOf(call.nameNode),
        message: `${helperCallLabel(call)} is GPL-only and the file declares no licence`,
        fix: addLicenseFix(file),
      }));
  },
};
