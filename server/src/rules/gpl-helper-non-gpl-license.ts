// Rule gpl-helper-non-gpl-license: a GPL-only helper called from a file whose SEC("license")
// string is not GPL-compatible (the kernel's license_is_gpl_compatible list).
import type { Rule } from './rule';
import { helperCallLabel } from '../analysis/probe-file';
import { changeLicenseFix } from './license-fix';

const HEADER = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n';

export const gplHelperNonGplLicenseRule: Rule = {
  id: 'gpl-helper-non-gpl-license',
  description: 'A GPL-only helper is called but the licence string is not GPL-compatible.',
  verifierMessage: 'cannot call GPL-restricted function from non-GPL compatible program',
  bad: [
    {
      code: `${HEADER}
char LICENSE[] SEC("license") = "MIT";

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return task != 0;
}
`,
      line: 9,
    },
  ],
  good: [
    {
      code: `${HEADER}
char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return task != 0;
}
`,
    },
    {
      code: `${HEADER}
char LICENSE[] SEC("license") = "MIT";

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	return bpf_get_current_pid_tgid() > 0;
}
`,
    },
  ],
  checkFunction(file, fn) {
    const license = file.license;
    if (!license || file.licenseIsGplCompatible) return [];
    const fix = changeLicenseFix(file);
    return fn.helperCalls
      .filter((call) => call.helper.gplOnly)
      .map((call) => ({
        range: file.rangeOf(call.nameNode),
        message: `${helperCallLabel(call)} is GPL-only, and the licence "${license.value}" is not GPL-compatible (use "GPL", "Dual BSD/GPL", "Dual MIT/GPL" …)`,
        ...(fix ? { fix } : {}),
      }));
  },
};
