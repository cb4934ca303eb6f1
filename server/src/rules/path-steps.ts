// The "why" of a flow finding, the way the verifier log shows it: where a value came from, the conditions on the
// way to a statement (branches it sits in, early exits it got past), each as a related-information step. Reads tree-sitter nodes.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { PathStep } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { declaratorShape } from '../analysis/c-values';

/** A condition a statement is reached under: `if (pid == targ_pid)` taken, `case X:`, or `if (len > MAX) return` passed. */
export interface PathCondition {
  node: Node;
  /** The if/switch/loop statement the condition belongs to. */
  statement: Node;
  /** The condition as a reader would say it holds on this path ("pid == targ_pid", "not len > MAX", "case AF_INET"). */
  text: string;
  /** 'branch': the statement sits inside it; 'exit': an earlier `if (…) return` the path got past. */
  kind: 'branch' | 'exit';
}

const unparenthesised = (file: ProbeFile, node: Node) => file.textOf(node).replace(/^\((.*)\)$/s, '$1');

/** Whether a statement always leaves the enclosing block (return, goto, break, continue, or a block ending in one). */
function alwaysLeaves(node: Node | null): boolean {
  if (!node) return false;
  if (['return_statement', 'goto_statement', 'break_statement', 'continue_statement'].includes(node.type)) return true;
  if (node.type === 'compound_statement') return alwaysLeaves(node.namedChildren.filter((c) => c?.type !== 'comment').at(-1) ?? null);
  return false;
}

/** The branches `node` sits in inside the function body, outermost first. */
export function enclosingConditions(file: ProbeFile, fn: ProbeFunction, node: Node): PathCondition[] {
  const found: PathCondition[] = [];
  for (let child: Node = node, parent = node.parent; parent && child.id !== fn.body.id; child = parent, parent = parent.parent) {
    const condition = parent.childForFieldName('condition');
    if (parent.type === 'if_statement' && condition && child.id !== condition.id) {
      const inElse = parent.childForFieldName('alternative')?.id === child.id;
      found.unshift({ node: condition, statement: parent, text: `${inElse ? 'not ' : ''}${unparenthesised(file, condition)}`, kind: 'branch' });
    } else if (parent.type === 'case_statement') {
      const value = parent.childForFieldName('value');
      found.unshift({ node: value ?? parent, statement: parent, text: value ? `case ${file.textOf(value)}` : 'default', kind: 'branch' });
    } else if ((parent.type === 'while_statement' || parent.type === 'for_statement') && condition && child.id === parent.childForFieldName('body')?.id) {
      found.unshift({ node: condition, statement: parent, text: `in the loop while ${unparenthesised(file, condition)}`, kind: 'branch' });
    }
  }
  return found;
}

/** `if (cond) return …;` statements before `node` in its enclosing blocks, from `after` on: reaching `node` means each was false. */
function earlyExitsPassed(file: ProbeFile, fn: ProbeFunction, node: Node, after: number): PathCondition[] {
  const found: PathCondition[] = [];
  for (let child: Node = node, parent = node.parent; parent && child.id !== fn.body.id; child = parent, parent = parent.parent) {
    if (parent.type !== 'compound_statement') continue;
    for (const sibling of parent.namedChildren) {
      if (!sibling || sibling.startIndex >= child.startIndex) break;
      if (sibling.startIndex < after || sibling.type !== 'if_statement' || sibling.childForFieldName('alternative')) continue;
      const condition = sibling.childForFieldName('condition');
      if (condition && alwaysLeaves(sibling.childForFieldName('consequence'))) found.push({ node: condition, statement: sibling, text: `not ${unparenthesised(file, condition)}`, kind: 'exit' });
    }
  }
  return found;
}

/** Steps for the branches taken on the way from `from` (where the value came from; the function start when null) to `to`, in source order. */
export function branchSteps(file: ProbeFile, fn: ProbeFunction, to: Node, from: Node | null = null): PathStep[] {
  const after = from?.endIndex ?? fn.body.startIndex;
  // a branch around both the origin and the use says nothing about how the one reaches the other
  const branches = enclosingConditions(file, fn, to).filter((c) => from == null || !contains(c.statement, from));
  return [...branches, ...earlyExitsPassed(file, fn, to, after)]
    .sort((a, b) => a.node.startIndex - b.node.startIndex)
    .map((c) => ({
      range: file.rangeOf(c.node),
      message:
        c.kind === 'exit'
          ? `'${c.text.slice(4)}' is false on this path (it would have left here)`
          : /^(case |default$|in the loop)/.test(c.text)
            ? `on this path: ${c.text}`
            : `on this path '${c.text.replace(/^not /, '')}' is ${c.text.startsWith('not ') ? 'false' : 'true'}`,
    }));
}

function contains(outer: Node, inner: Node): boolean {
  return inner.startIndex >= outer.startIndex && inner.endIndex <= outer.endIndex;
}

/** Where local `name` gets its value before `use`: its initialiser and each assignment, with the branches that guard it. */
export function valueSteps(file: ProbeFile, fn: ProbeFunction, name: string, use: Node): PathStep[] {
  const steps: { node: Node; message: string }[] = [];
  for (const node of fn.body.descendantsOfType(['init_declarator', 'assignment_expression', 'update_expression'])) {
    if (!node || node.startIndex >= use.startIndex) continue;
    const declared = node.childForFieldName('declarator');
    const target = declared ? declaratorShape(declared).name : (node.childForFieldName('left') ?? node.childForFieldName('argument'));
    if (target?.type !== 'identifier' || target.text !== name) continue;
    const guards = enclosingConditions(file, fn, node).filter((c) => !contains(c.statement, use));
    const operator = node.type === 'assignment_expression' ? (node.childForFieldName('operator')?.text ?? '=') : '=';
    const what = node.type === 'update_expression' || operator !== '=' ? 'changed' : 'set';
    steps.push({ node, message: guards.length > 0 ? `'${name}' is ${what} here only when ${guards.map((g) => `'${g.text}'`).join(' and ')}` : `'${name}' is ${what} here: ${declared ? `${name} = ${file.textOf(node.childForFieldName('value') ?? node)}` : file.textOf(node)}` });
  }
  return steps.map((s) => ({ range: file.rangeOf(s.node), message: s.message }));
}

/** Conditions between `from` and `to` that test something `matches` accepts, each said to not cover the path to `to`. */
export function testSteps(file: ProbeFile, fn: ProbeFunction, from: Node, to: Node, matches: (condition: string) => boolean, message: string): PathStep[] {
  return fn.body
    .descendantsOfType(['if_statement', 'conditional_expression', 'while_statement', 'for_statement'])
    .map((statement) => statement.childForFieldName('condition'))
    .filter((condition): condition is Node => condition != null && condition.startIndex >= (from.id === fn.body.id ? from.startIndex : from.endIndex) && condition.startIndex < to.startIndex && !contains(condition, to))
    .filter((condition) => matches(unparenthesised(file, condition)))
    .map((condition) => ({ range: file.rangeOf(condition), message }));
}

/** Joins step lists in source order, one step per position (the first list's wording wins). */
export function mergeSteps(...lists: PathStep[][]): PathStep[] {
  const byPosition = new Map<string, PathStep>();
  for (const step of lists.flat()) {
    const key = `${step.range.start.line}:${step.range.start.character}`;
    if (!byPosition.has(key)) byPosition.set(key, step);
  }
  const order = (s: PathStep) => s.range.start.line * 1e6 + s.range.start.character;
  return [...byPosition.values()].sort((a, b) => order(a) - order(b));
}

/** The path to a use of an integer that is not bounded there: where it got its value, comparisons of it the path went around, the branches taken, the use. */
export function boundsPath(file: ProbeFile, fn: ProbeFunction, expression: Node, use: Node, useMessage: string): PathStep[] {
  const name = expression.type === 'identifier' ? expression.text : null;
  const compared = name ? new RegExp(`(^|[^\\w.>])${name}\\s*(<|<=|>|>=)[^<>]|[^<>](<|<=|>|>=)\\s*${name}(\\W|$)`) : null;
  const tests = name && compared ? testSteps(file, fn, fn.body, use, (condition) => compared.test(condition), `'${name}' is compared here, but the path below does not only come from the side where it is bounded`) : [];
  return [...mergeSteps(name ? valueSteps(file, fn, name, use) : [], tests, branchSteps(file, fn, use)), { range: file.rangeOf(use), message: useMessage }];
}
