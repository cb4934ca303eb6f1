// Rule stack-size-exceeded: a function's locals, or a program's chain of non-inlined calls, need more than
// the 512-byte BPF stack. Sizes come from c-values (struct layouts, #defines); inlined helpers add to their caller.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { localVariables, variableSize, type LocalVariable } from '../analysis/c-values';
import { kernelHas } from '../kernel/kernel-version';
import { exitInstructionRange } from './program-exit';

const STACK_LIMIT = 512;
/** Program types whose subprograms get a private stack (x86-64 JIT, Linux 6.14+), so only each frame must fit. */
const PRIVATE_STACK_TYPES = new Set(['kprobe', 'tracepoint', 'raw_tracepoint', 'perf_event', 'tracing']);
const PRIVATE_STACK_SINCE = '6.14';
const SUMMARY_CACHE_LIMIT = 20_000;

/** What one function body needs, independent of where the function sits in the file (so it can be cached). */
interface FunctionSummary {
  bytes: number;
  /** The largest local, with its declaration's offsets relative to the function's start. */
  largest: { name: string; bytes: number; start: number; end: number } | null;
  callees: string[];
}

interface Frame {
  bytes: number;
  /** The largest local in this frame (including inlined helpers), for the finding's position. */
  largest: { name: string; bytes: number; start: number; end: number; fn: ProbeFunction } | null;
}

interface Chain {
  bytes: number;
  path: { fn: ProbeFunction; bytes: number }[];
}

/** Summaries by function text and type context: a keystroke re-summarises only the functions it changed. */
const summaryCache = new Map<string, FunctionSummary>();

function isAggregate(local: LocalVariable): boolean {
  return local.pointerDepth === 0 && (local.arrayLengths.length > 0 || /^(struct|union)\s/.test(local.baseType));
}

/** A call the compiler must turn into a real BPF-to-BPF call (anything else it may inline, and usually does). */
function isOutOfLine(fn: ProbeFunction): boolean {
  return fn.isNoinline;
}

/** The #defines and struct definitions sizes depend on, read from the text (cheaper than walking the tree). */
function typeContext(file: ProbeFile): string {
  const defines = file.text.match(/^[ \t]*#[ \t]*define[^\n]*/gm) ?? [];
  const structs = file.text.match(/\b(struct|union)\s+\w+\s*\{[^}]*\}/g) ?? [];
  return [...defines, ...structs].join('\n');
}

function summarise(file: ProbeFile, fn: ProbeFunction): FunctionSummary {
  const base = fn.node.startIndex;
  const addressTaken = new Set([...file.textOf(fn.body).matchAll(/&\s*([A-Za-z_]\w*)/g)].map((m) => m[1]));
  // blocks that cannot be live at the same time share stack: a block costs its own locals plus its largest inner block.
  // Block nesting is worked out from text ranges (walking node.parent is slow in tree-sitter).
  const spans = [fn.body, ...fn.body.descendantsOfType('compound_statement').filter((b) => !b.equals(fn.body))].map((node) => ({
    node,
    start: node.startIndex,
    end: node.endIndex,
  }));
  const innermostAround = (start: number, end: number, strict: boolean) =>
    spans
      .filter((b) => b.start <= start && end <= b.end && !(strict && b.start === start && b.end === end))
      .reduce((best, b) => (b.start >= best.start ? b : best), spans[0]).node;
  type Block = { node: Node; own: NonNullable<FunctionSummary['largest']> | null; ownBytes: number; inner: { bytes: number; largest: FunctionSummary['largest'] } };
  const blocks = new Map<number, Block>();
  const blockOf = (node: Node): Block => {
    let entry = blocks.get(node.startIndex);
    if (!entry) blocks.set(node.startIndex, (entry = { node, own: null, ownBytes: 0, inner: { bytes: 0, largest: null } }));
    return entry;
  };
  blockOf(fn.body);
  for (const local of localVariables(file, fn).values()) {
    if (local.isParameter || (!isAggregate(local) && !addressTaken.has(local.name))) continue;
    const size = variableSize(file, local);
    if (size == null) continue;
    const slot = Math.ceil(size / 8) * 8;
    const block = blockOf(innermostAround(local.declaration.startIndex, local.declaration.endIndex, false));
    block.ownBytes += slot;
    if (block.own == null || slot > block.own.bytes) {
      block.own = { name: local.name, bytes: slot, start: local.declaration.startIndex - base, end: local.declaration.endIndex - base };
    }
  }
  const total = (entry: Block) => {
    const largest = entry.inner.largest && (entry.own == null || entry.inner.largest.bytes > entry.own.bytes) ? entry.inner.largest : entry.own;
    return { bytes: entry.ownBytes + entry.inner.bytes, largest };
  };
  // fold the innermost blocks first (a nested block starts later) into the nearest enclosing block with locals
  for (const entry of [...blocks.values()].sort((a, b) => b.node.startIndex - a.node.startIndex)) {
    if (entry.node.equals(fn.body)) continue;
    let parent = innermostAround(entry.node.startIndex, entry.node.endIndex, true);
    while (!blocks.has(parent.startIndex) && !parent.equals(fn.body)) parent = innermostAround(parent.startIndex, parent.endIndex, true);
    const target = blockOf(parent);
    const folded = total(entry);
    if (folded.bytes > target.inner.bytes) target.inner = folded;
  }
  const body = total(blockOf(fn.body));
  return { bytes: body.bytes, largest: body.largest, callees: [...new Set(fn.calls.map((call) => call.name))] };
}

class StackModel {
  private readonly frames = new Map<string, Frame>();
  private readonly chains = new Map<string, Chain>();
  private readonly summaries = new Map<string, FunctionSummary>();
  private readonly byName: Map<string, ProbeFunction>;
  private readonly context: string;

  constructor(private readonly file: ProbeFile) {
    this.byName = new Map(file.functions.map((fn) => [fn.name, fn]));
    this.context = typeContext(file);
  }

  private summary(fn: ProbeFunction): FunctionSummary {
    let summary = this.summaries.get(fn.name);
    if (summary) return summary;
    const key = `${this.context}\u0000${fn.isStatic}${fn.isInline}${fn.isNoinline}\u0000${this.file.textOf(fn.node)}`;
    summary = summaryCache.get(key);
    if (!summary) {
      if (summaryCache.size >= SUMMARY_CACHE_LIMIT) summaryCache.clear();
      summary = summarise(this.file, fn);
      summaryCache.set(key, summary);
    }
    this.summaries.set(fn.name, summary);
    return summary;
  }

  private callees(fn: ProbeFunction): ProbeFunction[] {
    return this.summary(fn).callees.flatMap((name) => {
      const callee = this.byName.get(name);
      return callee && callee !== fn && !callee.isProgram ? [callee] : [];
    });
  }

  /** Bytes of the function's own locals plus those of the helpers inlined into it. */
  frame(fn: ProbeFunction, visiting = new Set<string>()): Frame {
    const cached = this.frames.get(fn.name);
    if (cached) return cached;
    visiting.add(fn.name);
    const own = this.summary(fn);
    let bytes = own.bytes;
    let largest: Frame['largest'] = own.largest ? { ...own.largest, fn } : null;
    let inlined: Frame | null = null;
    for (const callee of this.callees(fn)) {
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
    for (const holder of [fn, ...this.inlinedInto(fn)]) {
      for (const callee of this.callees(holder)) {
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
    for (const callee of this.callees(fn)) {
      if (isOutOfLine(callee) || seen.has(callee.name)) continue;
      seen.add(callee.name);
      result.push(callee, ...this.inlinedInto(callee, seen));
    }
    return result;
  }

  /** The call in `fn` (or a helper inlined into it) that enters `target`. */
  callSite(fn: ProbeFunction, target: ProbeFunction): Node | null {
    for (const holder of [fn, ...this.inlinedInto(fn)]) {
      const site = holder.calls.find((call) => call.name === target.name);
      if (site) return site.node;
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
    const { name, bytes, start, end, fn: owner } = frame.largest;
    const key = `${owner.name}:${name}`;
    if (flaggedFrames.has(key)) continue;
    flaggedFrames.add(key);
    const variable = file.offsetRange(owner.node.startIndex + start, owner.node.startIndex + end);
    // clang's first "stack limit exceeded" error names the function whose frame is too big
    findings.push({
      range: fn.nameRange,
      message: `'${fn.name}' needs about ${frame.bytes} bytes of stack (its '${name}' alone takes ${bytes}); the BPF stack is ${STACK_LIMIT} bytes — move large buffers into a BPF_MAP_TYPE_PERCPU_ARRAY scratch map`,
      verifierMessage: 'Looks like the BPF stack limit is exceeded. Please move large on stack variables into BPF per-cpu array map.',
      path: [{ range: variable, message: `'${name}' takes ${bytes} bytes of ${fn.name}'s stack${owner === fn ? '' : ` (declared in '${owner.name}', inlined into it)`}` }],
    });
  }
  for (const program of file.programs) {
    const chain = model.chain(program);
    if (chain.path.length < 2 || chain.bytes <= STACK_LIMIT || chain.path.some((step) => step.bytes > STACK_LIMIT)) continue;
    const site = model.callSite(program, chain.path[1].fn);
    if (!site) continue;
    const privateStack = program.programType != null && PRIVATE_STACK_TYPES.has(program.programType) && kernelHas(file.targetKernel, PRIVATE_STACK_SINCE);
    const route = chain.path.map((step) => `${step.fn.name} (${step.bytes})`).join(' → ');
    const calls = chain.path.slice(1).map((step, i) => ({ step, site: model.callSite(chain.path[i].fn, step.fn) }));
    findings.push({
      // the verifier adds up the chain after walking the program, so its log ends at the program's exit
      range: exitInstructionRange(file, program),
      severity: privateStack ? 'warning' : 'error',
      message: privateStack
        ? `the call chain ${route} needs ${chain.bytes} bytes of stack; only kernels that give tracing programs' subprograms private stacks accept it (x86-64 from Linux ${PRIVATE_STACK_SINCE}, and not every build does); older kernels and other architectures refuse it`
        : `the call chain ${route} needs ${chain.bytes} bytes of stack, over the ${STACK_LIMIT}-byte limit for a program and the non-inlined functions it calls; inline a helper, or move buffers into a per-CPU array map`,
      verifierMessage: `combined stack size of ${chain.path.length} calls is ${chain.bytes}. Too large`,
      path: [
        { range: program.nameRange, message: `'${program.name}' uses ${chain.path[0].bytes} bytes of stack` },
        ...calls.flatMap(({ step, site: call }) => (call ? [{ range: file.rangeOf(call), message: `calls '${step.fn.name}' (not inlined), whose frame adds ${step.bytes} bytes` }] : [])),
      ],
    });
  }
  return findings;
}


export const stackSizeExceededRule: Rule = {
  id: 'stack-size-exceeded',
  description: 'A function, or a program with the non-inlined functions it calls, needs more than the 512-byte BPF stack.',
  verifierMessage: 'combined stack size of 3 calls is 576. Too large',
  check: checkStackSize,
};
