// Rule helper-not-allowed: a helper called from a program type whose func_proto table does not
// offer it (e.g. bpf_skb_load_bytes in a kprobe), on the target kernel.
import type { Rule } from './rule';
import { helperCallLabel } from '../analysis/probe-file';
import { formatKernelVersion } from '../kernel/kernel-version';
import type { ProgramType } from '../kernel/program-types';

const HEADER = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n';

/** Program types whose helper set depends on what they attach to; the data cannot judge them. */
const NOT_JUDGED: ReadonlySet<ProgramType> = new Set(['ext', 'struct_ops']);

export const helperNotAllowedRule: Rule = {
  id: 'helper-not-allowed',
  description: 'A helper is called from a program type that may not call it.',
  verifierMessage: 'program of this type cannot use helper <name>#<id>',
  bad: [
    {
      code: `${HEADER}
SEC("kprobe/tcp_sendmsg")
int on_send(struct pt_regs *ctx)
{
	char buf[4] = {};
	bpf_skb_load_bytes(ctx, 0, buf, sizeof(buf));
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`,
      line: 8,
    },
    {
      code: `${HEADER}
static __always_inline int peek(void *ctx, char *buf)
{
	return bpf_skb_load_bytes(ctx, 0, buf, 4);
}
SEC("tracepoint/syscalls/sys_enter_write")
int on_write(void *ctx)
{
	char buf[4] = {};
	return peek(ctx, buf);
}
char LICENSE[] SEC("license") = "GPL";
`,
      line: 6,
    },
  ],
  good: [
    {
      code: `${HEADER}
SEC("tc")
int classify(struct __sk_buff *skb)
{
	char buf[4] = {};
	bpf_skb_load_bytes(skb, 0, buf, sizeof(buf));
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`,
    },
  ],
  checkFunction(file, fn) {
    const types = fn.programTypes.filter((type) => !NOT_JUDGED.has(type));
    if (types.length === 0) return [];
    return fn.helperCalls.flatMap((call) => {
      const refusing = types.filter((type) => !file.kernel.helperAllowedIn(call.helper, type, file.targetKernel));
      if (refusing.length === 0) return [];
      const laterSince = refusing.map((type) => call.helper.programTypesSince[type]).find((since) => since != null);
      const via = fn.isProgram ? '' : ` (${fn.name} is called from ${refusing.join('/')} programs)`;
      const message = laterSince && call.helper.programTypes.includes(refusing[0])
        ? `${helperCallLabel(call)} is available to ${refusing.join('/')} programs only from kernel ${laterSince}; the target kernel is ${formatKernelVersion(file.targetKernel)}${via}`
        : `${helperCallLabel(call)} is not available to ${refusing.join('/')} programs${via}`;
      return [{
        range: file.rangeOf(call.nameNode),
        message,
        verifierMessage: `program of this type cannot use helper ${call.helper.name}#${call.helper.id}`,
      }];
    });
  },
};
