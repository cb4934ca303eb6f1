// Rule direct-kernel-memory-read: a kprobe/uprobe, raw or classic tracepoint program dereferences a pointer
// that the verifier only knows as a number (probe arguments, ctx->args[i], bpf_get_current_task()). Uses flow-walker.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, PathStep, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts, type FlowDomain } from '../analysis/flow-walker';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { declaratorShape, localVariables } from '../analysis/c-values';

/** Program types whose arguments reach the program as plain numbers (no BTF type the verifier trusts). */
const UNTYPED_ARGUMENT_TYPES = new Set(['kprobe', 'raw_tracepoint', 'raw_tracepoint_writable', 'tracepoint', 'perf_event']);
/** libbpf wrappers that turn registers into typed-looking parameters that are still numbers. */
const REGISTER_WRAPPERS = new Set(['BPF_KPROBE', 'BPF_KRETPROBE', 'BPF_UPROBE', 'BPF_URETPROBE', 'BPF_KSYSCALL', 'BPF_KPROBE_SYSCALL', 'BPF_USDT']);
const REGISTER_MACROS = /^PT_REGS_(PARM\d|RC|SP|FP|IP|RET)(_CORE)?(_SYSCALL)?$/;
/** Calls whose arguments are never loaded from (address arithmetic, CO-RE relocations, probe reads). */
const NON_LOADING_CALLS = /^(bpf_core_|__builtin_|BPF_CORE_READ|BPF_PROBE_READ|bpf_probe_read|offsetof|sizeof|typeof|__typeof__)/;

type State = Map<string, true>;


function isLoad(node: Node): boolean {
  // &p->field and p->array used as an address load nothing
  let current: Node = node;
  while (current.parent && (current.parent.type === 'field_expression' || current.parent.type === 'subscript_expression' || current.parent.type === 'parenthesized_expression')) {
    if (current.parent.type === 'subscript_expression' && current.parent.childForFieldName('index')?.equals(current)) break;
    current = current.parent;
  }
  const parent = current.parent;
  if (parent?.type === 'pointer_expression' && parent.childForFieldName('operator')?.text === '&') return false;
  for (let up: Node | null = parent; up && up.type !== 'compound_statement'; up = up.parent) {
    if (up.type === 'sizeof_expression') return false;
    if (up.type === 'call_expression' && NON_LOADING_CALLS.test(up.childForFieldName('function')?.text ?? '')) return false;
  }
  return true;
}

/** `BPF_CORE_READ(task, real_parent, tgid)` for the `task->real_parent->tgid` chain around `node`. */
function coreReadRewrite(node: Node): { top: Node; text: string } | null {
  let top = node;
  while (top.parent?.type === 'field_expression' && top.parent.childForFieldName('argument')?.equals(top)) top = top.parent;
  const parts: string[] = [];
  let current: Node = top;
  let pending = '';
  while (current.type === 'field_expression') {
    const field = current.childForFieldName('field')?.text;
    const op = current.childForFieldName('operator')?.text;
    if (!field) return null;
    pending = pending ? `${field}.${pending}` : field;
    if (op === '->') {
      parts.unshift(pending);
      pending = '';
    }
    current = stripCasts(current.childForFieldName('argument') as Node);
  }
  if (current.type !== 'identifier' || pending) return null;
  const parent = top.parent;
  if (parent?.type === 'assignment_expression' && parent.childForFieldName('left')?.equals(top)) return null;
  if (parent?.type === 'update_expression') return null;
  return { top, text: `BPF_CORE_READ(${[current.text, ...parts].join(', ')})` };
}

/** Adds `#include <bpf/bpf_core_read.h>` after the last #include when the file lacks it. */
function coreReadIncludeEdit(file: ProbeFile) {
  if (/bpf_core_read\.h/.test(file.text)) return [];
  const lastInclude = file.lines.reduce((last, line, row) => (/^\s*#\s*include\b/.test(line) ? row : last), -1);
  const at = { line: lastInclude + 1, character: 0 };
  return [{ range: { start: at, end: at }, newText: '#include <bpf/bpf_core_read.h>\n' }];
}

function startDirectKernelReads(file: ProbeFile, fn: ProbeFunction) {
  const types = file.programTypesOf(fn);
  const untypedArguments = types.some((type) => UNTYPED_ARGUMENT_TYPES.has(type));
  const locals = localVariables(file, fn);
  // only a program's own first argument is the context; a subprogram's first parameter can be anything
  const contextName = !fn.isProgram ? null : fn.wrapper ? 'ctx' : (fn.params[0]?.name ?? null);
  const findings: Finding[] = [];
  const reported = new Set<string>();
  /** Why each name holds a number, and the steps that made it so (where it came from, copies). */
  const origins = new Map<string, { why: string; steps: PathStep[] }>();

  const isNumberPointerSource = (value: Node): string | null => {
    const expr = stripCasts(value);
    if (expr.type === 'call_expression') {
      const callee = expr.childForFieldName('function')?.text ?? '';
      if (callee === 'bpf_get_current_task') return 'bpf_get_current_task() returns a number';
      if (untypedArguments && REGISTER_MACROS.test(callee)) return `${callee}() is a register value`;
      return null;
    }
    if (!untypedArguments || !contextName) return null;
    let root: Node = expr;
    while (root.type === 'field_expression' || root.type === 'subscript_expression') root = stripCasts(root.childForFieldName('argument') as Node);
    return root !== expr && root.type === 'identifier' && root.text === contextName ? `${file.textOf(expr)} is a number read from the context` : null;
  };

  const domain: FlowDomain<State> = {
    initial() {
      const state: State = new Map();
      // BPF_PROG arguments are typed only for BTF programs (tp_btf, fentry …); in a raw tracepoint they are numbers
      const numberArguments = fn.wrapper != null && (REGISTER_WRAPPERS.has(fn.wrapper) || (fn.wrapper === 'BPF_PROG' && /^raw_tracepoint/.test(fn.programType ?? '')));
      if (numberArguments && untypedArguments) {
        for (const param of fn.params) {
          if (param.name && param.type.includes('*')) {
            state.set(param.name, true);
            const why = `the ${fn.wrapper} argument '${param.name}' is a register value`;
            origins.set(param.name, { why, steps: [{ range: file.rangeOf(param.node), message: `${why}: a number to the verifier` }] });
          }
        }
      }
      return state;
    },
    clone: (state) => new Map(state),
    join(a, b) {
      const joined: State = new Map(a);
      for (const name of b.keys()) joined.set(name, true);
      return joined;
    },
    equals: (a, b) => a.size === b.size && [...a.keys()].every((k) => b.has(k)),
    assign(target, value, state, operator) {
      const name = target.type === 'identifier' ? target.text : declaratorShape(target).name?.text;
      if (!name || operator !== '=' || target.type === 'field_expression') return;
      const local = locals.get(name);
      const source = value ? isNumberPointerSource(value) : null;
      const copied = value ? stripCasts(value) : null;
      const copiedName = copied?.type === 'identifier' ? copied.text : copied?.type === 'binary_expression' ? stripCasts(copied.childForFieldName('left') as Node).text : null;
      if (source && local && local.pointerDepth > 0) {
        state.set(name, true);
        origins.set(name, { why: source, steps: [{ range: file.rangeOf(target), message: `'${name}' gets its value here: ${source}` }] });
      } else if (copiedName && state.has(copiedName) && local && local.pointerDepth > 0) {
        state.set(name, true);
        const from = origins.get(copiedName);
        origins.set(name, { why: from?.why ?? '', steps: [...(from?.steps ?? []), { range: file.rangeOf(target), message: `'${name}' is set here from '${copiedName}', still a number` }] });
      } else {
        state.delete(name);
      }
    },
    visit(node, state) {
      let base: Node | null = null;
      if (node.type === 'field_expression' && node.childForFieldName('operator')?.text === '->') base = node.childForFieldName('argument');
      else if (node.type === 'pointer_expression' && node.childForFieldName('operator')?.text === '*') base = node.childForFieldName('argument');
      if (!base) return;
      const name = stripCasts(base);
      if (name.type !== 'identifier' || !state.has(name.text) || !isLoad(node)) return;
      const key = `${name.text}@${node.startIndex}`;
      if (reported.has(key)) return;
      reported.add(key);
      const rewrite = node.type === 'field_expression' ? coreReadRewrite(node) : null;
      const user = /BPF_U(RET)?PROBE|uprobe/.test(`${fn.wrapper ?? ''} ${fn.section ?? ''}`);
      const reader = user ? 'bpf_probe_read_user()' : 'BPF_CORE_READ() or bpf_probe_read_kernel()';
      findings.push({
        range: file.rangeOf(node),
        message: `${origins.get(name.text)?.why ?? `'${name.text}' is a number`}, not a pointer the verifier lets this program dereference; read '${file.textOf(node)}' with ${reader}`,
        verifierMessage: "R1 invalid mem access 'scalar'",
        path: [...(origins.get(name.text)?.steps ?? []), { range: file.rangeOf(node), message: `dereferenced here: the verifier refuses a load through a number` }],
        ...(rewrite && !user
          ? { fix: { title: `Read with ${rewrite.text}`, edits: [{ range: file.rangeOf(rewrite.top), newText: rewrite.text }, ...coreReadIncludeEdit(file)] } }
          : {}),
      });
    },
  };
  return { domain, result: () => findings };
}

const directKernelReadsFlow = defineFlowAnalysis('direct-kernel-memory-read', startDirectKernelReads);

export function checkDirectKernelReads(file: ProbeFile, fn: ProbeFunction): Finding[] {
  return flowResult(file, fn, directKernelReadsFlow);
}

export const directKernelMemoryReadRule: Rule = {
  id: 'direct-kernel-memory-read',
  description: 'A kprobe/uprobe or raw/classic tracepoint program dereferences kernel or user memory directly instead of BPF_CORE_READ / bpf_probe_read_*().',
  verifierMessage: "R1 invalid mem access 'scalar'",
  checkFunction: checkDirectKernelReads,
};
