// Rule stack-size-exceeded: a function's locals, or a program's chain of non-inlined calls, need more than
// the 512-byte BPF stack. Sizes come from c-values (struct layouts, #defines); inlined helpers add to their caller.
import type { Node } from 'web-tree-sitter';
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { localVariables, variableSize, type LocalVariable } from '../analysis/c-values';
import { kernelHas } from '../kernel/kernel-version';

const STACK_LIMIT = 512;
/** Program types whose subprograms get a private stack (x86-64 JIT, Linux 6.14+), so only each frame must fit. */
const PRIVATE_STACK_TYPES = new Set(['kprobe', 'tracepoint', 'raw_tracepoint', 'perf_event', 'tracing']);
const PRIVATE_STACK_SINCE = '6.14';

interface Frame {
  bytes: number;
  /** The largest local in this frame (including inlined helpers), for the finding's position. */
  largest: { local: LocalVariable; bytes: number; fn: ProbeFunction } | null;
}

interface Chain {
  bytes: number;
  path: { fn: ProbeFunction; bytes: number }[];
}

function isAggregate(local: LocalVariable): boolean {
  return local.pointerDepth === 0 && (local.arrayLengths.length > 0 || /^(struct|union)\s/.test(local.baseType));
}

/** A call the compiler turns into a real BPF-to-BPF call rather than inlining. */
function isOutOfLine(fn: ProbeFunction): boolean {
  return fn.isNoinline || (!fn.isStatic && !fn.isInline);
}

class StackModel {
  private readonly frames = new Map<string, Frame>();
  private readonly chains = new Map<string, Chain>();

  constructor(private readonly file: ProbeFile) {}

  private callees(fn: ProbeFunction): { callee: ProbeFunction; call: Node }[] {
    return fn.calls.flatMap((call) => {
      const callee = this.file.functionNamed(call.name);
      return callee && callee !== fn && !callee.isProgram ? [{ callee, call: call.node }] : [];
    });
  }

  /** Bytes of the function's own locals plus those of the helpers inlined into it. */
  frame(fn: ProbeFunction, visiting = new Set<string>()): Frame {
    const cached = this.frames.get(fn.name);
    if (cached) return cached;
    visiting.add(fn.name);
    const locals = [...localVariables(this.file, fn).values()].filter((local) => !local.isParameter);
    const bodyText = this.file.textOf(fn.body);
    const slotOf = (local: LocalVariable): number => {
      const addressTaken = !isAggregate(local) && bodyText.includes(`&${local.name}`);
      if (!isAggregate(local) && !addressTaken) return 0;
      const size = variableSize(this.file, local);
      return size == null ? 0 : Math.ceil(size / 8) * 8;
    };
    // blocks that cannot be live at the same time share stack: a block costs its own locals plus its largest inner block
    const blockFrame = (block: Node): Frame => {
      const here: Frame = { bytes: 0, largest: null };
      let inner: Frame = { bytes: 0, largest: null };
      const visit = (node: Node) => {
        for (const child of node.namedChildren) {
          if (!child) continue;
          if (child.type === 'compound_statement') {
            const nested = blockFrame(child);
            if (nested.bytes > inner.bytes) inner = nested;
          } else if (child.type === 'declaration') {
            for (const local of locals.filter((l) => l.declaration.equals(child))) {
              const slot = slotOf(local);
              here.bytes += slot;
              if (slot > 0 && (here.largest == null || slot > here.largest.bytes)) here.largest = { local, bytes: slot, fn };
            }
          } else {
            visit(child);
          }
        }
      };
      visit(block);
      const innerLargest = inner.largest;
      const largest = innerLargest && (here.largest == null || innerLargest.bytes > here.largest.bytes) ? innerLargest : here.largest;
      return { bytes: here.bytes + inner.bytes, largest };
    };
    const body = blockFrame(fn.body);
    let bytes = body.bytes;
    let largest = body.largest;
    let inlined: Frame | null = null;
    for (const { callee } of this.callees(fn)) {
      if (isOutOfLine(callee) || visiting.has(callee.name)) continue;
      const frame = this.frame(callee, visiting);
      if (!inlined || frame.bytes > inlined.bytes) inlined = frame;
    }
    if (inlined) {
      bytes += inlined.bytes;
      if (inlined.largest && (!largest || inlined.largest.bytes > largest.bytes)) largest = inlined.largest;
    }
    visiting.delete(fn.name);
    const frame = { bytes, largest };
    this.frames.set(fn.name, frame);
    return frame;
  }

  /** The deepest chain of out-of-line calls starting at fn, with each frame's size. */
  chain(fn: ProbeFunction, visiting = new Set<string>()): Chain {
    const cached = this.chains.get(fn.name);
    if (cached) return cached;
    visiting.add(fn.name);
    const own = this.frame(fn).bytes;
    let deepest: Chain = { bytes: 0, path: [] };
    const reachable = [fn, ...this.inlinedInto(fn)];
    for (const holder of reachable) {
      for (const { callee } of this.callees(holder)) {
        if (!isOutOfLine(callee) || visiting.has(callee.name)) continue;
        const next = this.chain(callee, visiting);
        if (next.bytes > deepest.bytes) deepest = next;
      }
    }
    visiting.delete(fn.name);
    const chain = { bytes: own + deepest.bytes, path: [{ fn, bytes: own }, ...deepest.path] };
    this.chains.set(fn.name, chain);
    return chain;
  }

  private inlinedInto(fn: ProbeFunction, seen = new Set<string>()): ProbeFunction[] {
    const result: ProbeFunction[] = [];
    for (const { callee } of this.callees(fn)) {
      if (isOutOfLine(callee) || seen.has(callee.name)) continue;
      seen.add(callee.name);
      result.push(callee, ...this.inlinedInto(callee, seen));
    }
    return result;
  }

  /** The call in `fn` (or a helper inlined into it) that enters `target`. */
  callSite(fn: ProbeFunction, target: ProbeFunction): Node | null {
    for (const holder of [fn, ...this.inlinedInto(fn)]) {
      const site = this.callees(holder).find(({ callee }) => callee === target);
      if (site) return site.call;
    }
    return null;
  }
}

export function checkStackSize(file: ProbeFile): Finding[] {
  const model = new StackModel(file);
  const findings: Finding[] = [];
  const flaggedFrames = new Set<string>();
  for (const fn of file.functions) {
    if (!fn.isProgram && !isOutOfLine(fn)) continue;
    const frame = model.frame(fn);
    if (frame.bytes <= STACK_LIMIT || !frame.largest) continue;
    const { local, bytes, fn: owner } = frame.largest;
    const key = `${owner.name}:${local.name}`;
    if (flaggedFrames.has(key)) continue;
    flaggedFrames.add(key);
    findings.push({
      range: file.rangeOf(local.declaration),
      message: `'${fn.name}' needs about ${frame.bytes} bytes of stack (this '${local.name}' alone takes ${bytes}); the BPF stack is ${STACK_LIMIT} bytes — move large buffers into a BPF_MAP_TYPE_PERCPU_ARRAY scratch map`,
      verifierMessage: 'Looks like the BPF stack limit is exceeded. Please move large on stack variables into BPF per-cpu array map.',
    });
  }
  for (const program of file.programs) {
    const chain = model.chain(program);
    if (chain.path.length < 2 || chain.bytes <= STACK_LIMIT || chain.path.some((step) => step.bytes > STACK_LIMIT)) continue;
    const site = model.callSite(program, chain.path[1].fn);
    if (!site) continue;
    const privateStack = program.programType != null && PRIVATE_STACK_TYPES.has(program.programType) && kernelHas(file.targetKernel, PRIVATE_STACK_SINCE);
    const route = chain.path.map((step) => `${step.fn.name} (${step.bytes})`).join(' → ');
    findings.push({
      range: file.rangeOf(site),
      severity: privateStack ? 'information' : 'error',
      message: privateStack
        ? `the call chain ${route} needs ${chain.bytes} bytes of stack; accepted from Linux ${PRIVATE_STACK_SINCE} on x86-64 (private stacks for tracing programs), refused by older kernels and other architectures`
        : `the call chain ${route} needs ${chain.bytes} bytes of stack, over the ${STACK_LIMIT}-byte limit for a program and the non-inlined functions it calls; inline a helper, or move buffers into a per-CPU array map`,
      verifierMessage: `combined stack size of ${chain.path.length} calls is ${chain.bytes}. Too large`,
    });
  }
  return findings;
}

const HEADER = '#include <linux/bpf.h>\n#include <linux/pkt_cls.h>\n#include <bpf/bpf_helpers.h>\n';

export const stackSizeExceededRule: Rule = {
  id: 'stack-size-exceeded',
  description: 'A function, or a program with the non-inlined functions it calls, needs more than the 512-byte BPF stack.',
  verifierMessage: 'combined stack size of 3 calls is 576. Too large',
  bad: [
    {
      code: `${HEADER}
struct big_event { __u32 pid; char args[5][128]; };

SEC("tc")
int big(struct __sk_buff *skb)
{
	struct big_event e = {};

	bpf_skb_load_bytes(skb, 0, &e, sizeof(e));
	return e.pid ? TC_ACT_OK : TC_ACT_SHOT;
}
char LICENSE[] SEC("license") = "GPL";
`,
      line: 10,
    },
    {
      code: `${HEADER}
static __noinline int sample_payload(struct __sk_buff *skb)
{
	__u8 payload[288];

	return bpf_skb_load_bytes(skb, 288, payload, sizeof(payload));
}

static __noinline int sample_headers(struct __sk_buff *skb)
{
	__u8 headers[288];

	bpf_skb_load_bytes(skb, 0, headers, sizeof(headers));
	return sample_payload(skb);
}

SEC("tc")
int sample(struct __sk_buff *skb)
{
	sample_headers(skb);
	return TC_ACT_OK;
}
char LICENSE[] SEC("license") = "GPL";
`,
      line: 23,
    },
  ],
  good: [
    {
      code: `${HEADER}
static __noinline int sample_at(struct __sk_buff *skb, __u32 offset)
{
	__u8 buf[288];

	return bpf_skb_load_bytes(skb, offset, buf, sizeof(buf));
}

static __always_inline int small(struct __sk_buff *skb)
{
	__u8 eth[14];

	return bpf_skb_load_bytes(skb, 0, eth, sizeof(eth));
}

SEC("tc")
int sample(struct __sk_buff *skb)
{
	small(skb);
	sample_at(skb, 0);
	sample_at(skb, 288);
	return TC_ACT_OK;
}
char LICENSE[] SEC("license") = "GPL";
`,
    },
  ],
  check: checkStackSize,
};
