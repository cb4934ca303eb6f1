// Rule uninitialized-stack-memory: a stack variable passed to a helper that reads it (map key/value, perf or
// ringbuf output) while fields or padding are unwritten on this path. Quick fix zero-initialises the declaration.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, PathStep, Rule } from './rule';
import { branchSteps, enclosingConditions, mergeSteps } from './path-steps';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts, type FlowDomain } from '../analysis/flow-walker';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { declaratorShape, localVariables, structLayout, typeSize, type LocalVariable } from '../analysis/c-values';
import { kernelHas } from '../kernel/kernel-version';

/** Helper → argument positions it reads memory from (everything else passed by address is treated as written). */
const READ_ARGUMENTS: Readonly<Record<string, { index: number; role: string }[]>> = {
  bpf_map_lookup_elem: [{ index: 1, role: 'key' }],
  bpf_map_lookup_percpu_elem: [{ index: 1, role: 'key' }],
  bpf_map_update_elem: [{ index: 1, role: 'key' }, { index: 2, role: 'value' }],
  bpf_map_delete_elem: [{ index: 1, role: 'key' }],
  bpf_map_push_elem: [{ index: 1, role: 'value' }],
  bpf_perf_event_output: [{ index: 3, role: 'event data' }],
  bpf_ringbuf_output: [{ index: 1, role: 'event data' }],
  bpf_skb_output: [{ index: 3, role: 'event data' }],
  bpf_xdp_output: [{ index: 3, role: 'event data' }],
  bpf_probe_write_user: [{ index: 1, role: 'source' }],
  bpf_skb_store_bytes: [{ index: 2, role: 'source' }],
  bpf_sk_lookup_tcp: [{ index: 1, role: 'tuple' }],
  bpf_sk_lookup_udp: [{ index: 1, role: 'tuple' }],
  bpf_skc_lookup_tcp: [{ index: 1, role: 'tuple' }],
};

/** Reads of uninitialised stack by helpers are allowed for privileged loaders from this kernel on. */
const UNINIT_STACK_ALLOWED_SINCE = '6.3';
const FULL = '*';
/** Per variable: FULL, or the '|'-joined top-level fields written so far. */
type State = Map<string, string>;


function fieldsOf(value: string): Set<string> {
  return new Set(value.split('|').filter((f) => f.length > 0));
}

/** The variable an argument points at: `&key`, `key` (an array), `&e.comm`/`e.comm` → ['e', 'comm']. */
function addressedVariable(arg: Node, locals: Map<string, LocalVariable>): { name: string; field: string | null } | null {
  let expr = stripCasts(arg);
  let addressed = false;
  if (expr.type === 'pointer_expression' && expr.childForFieldName('operator')?.text === '&') {
    expr = stripCasts(expr.childForFieldName('argument') as Node);
    addressed = true;
  }
  if (expr.type === 'identifier') {
    const local = locals.get(expr.text);
    if (!local || local.isParameter || local.pointerDepth > 0) return null;
    return addressed || local.arrayLengths.length > 0 ? { name: expr.text, field: null } : null;
  }
  let field: string | null = null;
  while (expr.type === 'field_expression' || expr.type === 'subscript_expression') {
    if (expr.type === 'field_expression') {
      if (expr.childForFieldName('operator')?.text !== '.') return null;
      field = expr.childForFieldName('field')?.text ?? null;
    }
    expr = stripCasts(expr.childForFieldName('argument') as Node);
  }
  if (expr.type !== 'identifier' || !field) return null;
  const local = locals.get(expr.text);
  return local && !local.isParameter && local.pointerDepth === 0 ? { name: expr.text, field } : null;
}

/** Writes to `name` or its fields before `use` (`e.pid = …`, `key.comm` via a helper), each with the branches that guard it. */
function writeSteps(file: ProbeFile, fn: ProbeFunction, name: string, use: Node): PathStep[] {
  const steps: PathStep[] = [];
  for (const node of fn.body.descendantsOfType('assignment_expression')) {
    const left = node?.childForFieldName('left');
    if (!node || !left || node.startIndex >= use.startIndex || !new RegExp(`^${name}\\s*(\\.|\\[)`).test(file.textOf(left))) continue;
    const guards = enclosingConditions(file, fn, node).filter((c) => c.node.endIndex <= use.startIndex && !(use.startIndex >= c.statement.startIndex && use.endIndex <= c.statement.endIndex));
    steps.push({ range: file.rangeOf(left), message: guards.length > 0 ? `'${file.textOf(left)}' is written here only when ${guards.map((g) => `'${g.text}'`).join(' and ')}` : `'${file.textOf(left)}' is written here` });
  }
  return steps;
}

function startUninitializedStack(file: ProbeFile, fn: ProbeFunction) {
  const locals = localVariables(file, fn);
  const findings: Finding[] = [];
  const reported = new Set<number>();
  const lenient = kernelHas(file.targetKernel, UNINIT_STACK_ALLOWED_SINCE);

  /** What is still unwritten in `local` given the written fields; null when nothing is. */
  const missingParts = (local: LocalVariable, written: Set<string>): string | null => {
    if (local.arrayLengths.length > 0) return written.size > 0 ? null : 'its bytes';
    const layout = structLayout(file, local.baseType);
    if (!layout) {
      if (typeSize(file, local.baseType) != null && written.size === 0) return 'its value';
      return written.size === 0 && /^(struct|union)\s/.test(local.baseType) ? 'all of its fields' : null;
    }
    const unset = layout.fields.filter((f) => !written.has(f.name)).map((f) => `'${f.name}'`);
    const parts = [...(unset.length > 0 ? [`field${unset.length > 1 ? 's' : ''} ${unset.join(', ')}`] : []), ...(layout.hasPadding ? ['its padding bytes'] : [])];
    return parts.length > 0 ? parts.join(' and ') : null;
  };

  const zeroInitFix = (local: LocalVariable) => {
    const declarator = local.declaration.childrenForFieldName('declarator').find((d) => d != null && declaratorShape(d).name?.text === local.name);
    if (!declarator || declarator.type === 'init_declarator') return undefined;
    const at = file.positionAt(declarator.endIndex);
    return { title: `Zero-initialise '${local.name}' (= {})`, edits: [{ range: { start: at, end: at }, newText: ' = {}' }] };
  };

  const domain: FlowDomain<State> = {
    initial: () => new Map(),
    clone: (state) => new Map(state),
    join(a, b) {
      const joined: State = new Map();
      for (const name of new Set([...a.keys(), ...b.keys()])) {
        const x = a.get(name) ?? FULL;
        const y = b.get(name) ?? FULL;
        if (x === FULL && y === FULL) continue;
        if (x === FULL || y === FULL) joined.set(name, x === FULL ? y : x);
        else joined.set(name, [...fieldsOf(x)].filter((f) => fieldsOf(y).has(f)).join('|'));
      }
      return joined;
    },
    equals: (a, b) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v),
    assign(target, value, state, _operator, declaration) {
      if (declaration) {
        const name = declaratorShape(target).name?.text;
        const local = name ? locals.get(name) : undefined;
        if (!name || !local || local.pointerDepth > 0) return;
        if (value) state.delete(name);
        else state.set(name, '');
        return;
      }
      let expr = stripCasts(target);
      let field: string | null = null;
      while (expr.type === 'field_expression' || expr.type === 'subscript_expression') {
        if (expr.type === 'subscript_expression') field = FULL;
        else if (expr.childForFieldName('operator')?.text === '.') field = expr.childForFieldName('field')?.text ?? null;
        else return;
        expr = stripCasts(expr.childForFieldName('argument') as Node);
      }
      if (expr.type !== 'identifier' || !state.has(expr.text)) return;
      if (!field || field === FULL) state.delete(expr.text);
      else state.set(expr.text, [...fieldsOf(state.get(expr.text) ?? ''), field].join('|'));
    },
    visit(node, state) {
      if (node.type !== 'call_expression') return;
      const callee = node.childForFieldName('function')?.text ?? '';
      const args = node.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
      const reads = file.functionNamed(callee) ? [] : (READ_ARGUMENTS[callee] ?? []);
      args.forEach((arg, index) => {
        const target = addressedVariable(arg, locals);
        if (!target || !state.has(target.name)) return;
        const read = reads.find((r) => r.index === index);
        if (!read) {
          // any other call that receives the address (memset, probe reads, get_current_comm, own functions) writes it
          if (target.field) state.set(target.name, [...fieldsOf(state.get(target.name) ?? ''), target.field].join('|'));
          else state.delete(target.name);
          return;
        }
        if (target.field || reported.has(arg.startIndex)) return;
        const local = locals.get(target.name) as LocalVariable;
        const missing = missingParts(local, fieldsOf(state.get(target.name) ?? ''));
        if (!missing) return;
        reported.add(arg.startIndex);
        const fix = zeroInitFix(local);
        findings.push({
          range: file.rangeOf(arg),
          severity: lenient ? 'warning' : 'error',
          message:
            `'${target.name}' is passed to ${callee}() as the ${read.role}, but ${missing} ${/ and |^fields|bytes$/.test(missing) ? 'are' : 'is'} never written on this path` +
            (lenient
              ? ` — the kernel accepts this from root since ${UNINIT_STACK_ALLOWED_SINCE}, but the ${read.role} then carries stale stack bytes (lookups miss, kernel memory leaks to user space); zero it with = {} or __builtin_memset`
              : `; zero it with = {} or __builtin_memset`),
          verifierMessage: `invalid indirect read from stack R${index + 1} off -16+0 size ${local.arrayLengths.length > 0 ? 16 : (typeSize(file, local.baseType) ?? 8)}`,
          path: [
            { range: file.rangeOf(local.nameNode), message: `'${target.name}' is declared here without an initialiser: what is not written later holds stale stack bytes` },
            ...mergeSteps(writeSteps(file, fn, target.name, arg), branchSteps(file, fn, arg, local.declaration)),
            { range: file.rangeOf(arg), message: `${callee}() reads all of it here; ${missing} ${/ and |^fields|bytes$/.test(missing) ? 'are' : 'is'} unwritten on this path` },
          ],
          ...(fix ? { fix } : {}),
        });
      });
    },
  };
  return { domain, result: () => findings };
}

const uninitializedStackFlow = defineFlowAnalysis('uninitialized-stack-memory', startUninitializedStack);

export function checkUninitializedStack(file: ProbeFile, fn: ProbeFunction): Finding[] {
  return flowResult(file, fn, uninitializedStackFlow);
}

export const uninitializedStackMemoryRule: Rule = {
  id: 'uninitialized-stack-memory',
  description: 'A stack variable (map key/value, output event) is passed to a helper that reads it while fields or padding are still unwritten.',
  verifierMessage: 'invalid indirect read from stack R2 off -16+6 size 16',
  checkFunction: checkUninitializedStack,
};
