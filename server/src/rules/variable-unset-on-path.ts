// Rule variable-unset-on-path: a scalar or pointer local read on a path where it was never given a value; in a
// register the verifier refuses it ("R7 !read_ok"). Uses flow-walker; quick fix initialises it at its declaration.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, PathStep, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import type { FlowDomain } from '../analysis/flow-walker';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { declaratorShape, evaluateConstant, localVariables, structLayout, type LocalVariable } from '../analysis/c-values';
import { branchSteps, enclosingConditions, mergeSteps } from './path-steps';

/** The variables that may still be unset on this path. */
type State = Map<string, true>;

/** Locals that live in registers: scalars and pointers whose address is never taken (arrays and structs live on the stack). */
function registerLocals(file: ProbeFile, fn: ProbeFunction): Map<string, LocalVariable> {
  const addressed = new Set<string>();
  for (const node of fn.body.descendantsOfType('pointer_expression')) {
    const target = node?.childForFieldName('argument');
    if (node?.childForFieldName('operator')?.text === '&' && target?.type === 'identifier') addressed.add(target.text);
  }
  const locals = new Map<string, LocalVariable>();
  for (const [name, local] of localVariables(file, fn)) {
    if (local.isParameter || local.arrayLengths.length > 0 || addressed.has(name)) continue;
    if (local.pointerDepth === 0 && (/^(struct|union)\s/.test(local.baseType) || structLayout(file, local.baseType))) continue;
    if (local.declaration.type !== 'declaration' || /\bstatic\b/.test(file.textOf(local.declaration).split(local.name)[0])) continue;
    locals.set(name, local);
  }
  return locals;
}

/** The assignments to a local in the function, each with the conditions that guard it ("if (pid == targ_pid)"). */
function assignmentsOf(file: ProbeFile, fn: ProbeFunction, name: string): { node: Node; value: Node | null; guards: string[] }[] {
  const found: { node: Node; value: Node | null; guards: string[] }[] = [];
  for (const node of fn.body.descendantsOfType(['assignment_expression', 'update_expression'])) {
    if (!node) continue;
    const target = node.childForFieldName('left') ?? node.childForFieldName('argument');
    if (target?.type !== 'identifier' || target.text !== name) continue;
    const guards = enclosingConditions(file, fn, node).map((c) => c.text);
    found.push({ node, value: node.childForFieldName('right'), guards });
  }
  return found;
}

/**
 * `if (!e) return …;` as the first read of an `e` unset on some path: the test reads an undefined value, clang folds it
 * to "go on" (retransmit-event-unset-for-ipv6), and the kernel trips at the next read of `e` after the test.
 */
function droppedNullTest(file: ProbeFile, fn: ProbeFunction, read: Node, name: string): { nextRead: Node } | null {
  const condition = read.parent?.type === 'unary_expression' && read.parent.childForFieldName('operator')?.text === '!' ? read.parent.parent : read.parent;
  const test = condition?.type === 'parenthesized_expression' ? condition.parent : null;
  const leaves = test?.childForFieldName('consequence');
  if (test?.type !== 'if_statement' || test.childForFieldName('alternative') || !leaves || !/^\s*(\{\s*)?return\b[^;]*;\s*\}?\s*$/.test(file.textOf(leaves))) return null;
  const nextRead = fn.body.descendantsOfType('identifier').find((id) => id != null && id.text === name && id.startIndex >= test.endIndex);
  return nextRead ? { nextRead } : null;
}

function startUnsetVariables(file: ProbeFile, fn: ProbeFunction) {
  const locals = registerLocals(file, fn);
  const findings: Finding[] = [];
  if (locals.size === 0) return { result: () => findings };
  const reported = new Set<string>();

  const report = (node: Node, name: string) => {
    if (reported.has(name)) return;
    reported.add(name);
    const local = locals.get(name) as LocalVariable;
    const assignments = assignmentsOf(file, fn, name);
    // clang folds a value that is only ever a constant, and merges two or more assignments into one register it may
    // write on the unset path too (the kernel accepted xdp-port-unset-for-icmp); one computed value stays in a register
    // the unset path never wrote (R7 !read_ok)
    const computed = assignments.length === 1 && assignments.some((a) => a.value && evaluateConstant(file, a.value, localVariables(file, fn)) == null);
    const dropped = droppedNullTest(file, fn, node, name);
    const flagged = dropped?.nextRead ?? node;
    const path: PathStep[] = mergeSteps(
      [{ range: file.rangeOf(local.nameNode), message: `'${name}' is declared here without a value` }],
      assignments.map((a) => ({
        range: file.rangeOf(a.node),
        message: a.guards.length > 0 ? `set here only when ${a.guards.map((g) => `'${g}'`).join(' and ')}` : `set here, after the path that reads it`,
      })),
      branchSteps(file, fn, node, local.declaration),
      [{ range: file.rangeOf(node), message: dropped ? `first read here, on a path where none of those assignments ran: a test of an undefined value, which clang drops` : `read here on a path where none of those assignments ran` }],
      dropped ? [{ range: file.rangeOf(flagged), message: `so the path goes on to this use, where the kernel finds '${name}' never written` }] : [],
    );
    const declarator = local.declaration.childrenForFieldName('declarator').find((d) => d != null && declaratorShape(d).name?.text === name);
    const at = declarator && declarator.type !== 'init_declarator' ? file.positionAt(declarator.endIndex) : null;
    findings.push({
      range: file.rangeOf(flagged),
      severity: computed ? 'error' : 'warning',
      message: `'${name}' is ${dropped ? `tested on line ${node.startPosition.row + 1} and used here` : 'read here'}, but no value is set on every path to it (${assignments.length === 0 ? 'it is never set' : `set only ${assignments.map((a) => `on line ${file.positionAt(a.node.startIndex).line + 1}`).join(', ')}`}); give it a value where it is declared`,
      verifierMessage: 'R7 !read_ok',
      path,
      ...(at ? { fix: { title: `Initialise '${name}' (= ${local.pointerDepth > 0 ? 'NULL' : '0'})`, edits: [{ range: { start: at, end: at }, newText: local.pointerDepth > 0 ? ' = NULL' : ' = 0' }] } } : {}),
    });
  };

  const domain: FlowDomain<State> = {
    initial: () => new Map(),
    clone: (state) => new Map(state),
    join(a, b) {
      const joined: State = new Map(a);
      for (const name of b.keys()) joined.set(name, true);
      return joined;
    },
    equals: (a, b) => a.size === b.size && [...a.keys()].every((k) => b.has(k)),
    assign(target, value, state, operator, declaration) {
      const name = target.type === 'identifier' ? target.text : declaratorShape(target).name?.text;
      if (!name || !locals.has(name)) return;
      if (declaration) {
        if (value) state.delete(name);
        else state.set(name, true);
        return;
      }
      if (operator !== '=' && state.has(name)) report(target, name);
      state.delete(name);
    },
    visit(node, state) {
      if (node.type !== 'identifier' || !state.has(node.text)) return;
      const parent = node.parent;
      // bpf_for(i, 0, n), masked to while (i, 0, n): the iterator sets i
      if (parent?.type === 'comma_expression' && parent.namedChild(0)?.id === node.id && parent.parent?.parent?.type === 'while_statement') {
        state.delete(node.text);
        return;
      }
      // BPF_CORE_READ(task, pid), bpf_core_field_exists(…): macro arguments are field and type names too
      const callee = parent?.type === 'argument_list' ? parent.parent?.childForFieldName('function')?.text : undefined;
      if (callee && /^([A-Z_][A-Z0-9_]*|bpf_core_\w+)$/.test(callee)) return;
      report(node, node.text);
    },
  };
  return { domain, result: () => findings };
}

const unsetVariablesFlow = defineFlowAnalysis('variable-unset-on-path', startUnsetVariables);

export function checkUnsetVariables(file: ProbeFile, fn: ProbeFunction): Finding[] {
  return flowResult(file, fn, unsetVariablesFlow);
}

export const variableUnsetOnPathRule: Rule = {
  id: 'variable-unset-on-path',
  description: 'A local variable is read on a path where it was never set; the verifier refuses reading a register nothing wrote.',
  verifierMessage: 'R7 !read_ok',
  checkFunction: checkUnsetVariables,
};
