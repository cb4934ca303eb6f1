// Builds the text edits the flow rules' quick fixes insert: a statement before or after the statement
// holding a node, with that statement's indentation, and the neutral early return of a program type.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { TextEdit } from 'vscode-languageserver-types';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';

const BLOCK_PARENTS = new Set(['compound_statement', 'case_statement']);
const BRACELESS_PARENTS = new Set(['if_statement', 'else_clause', 'while_statement', 'for_statement', 'do_statement']);

/** The statement directly inside a block that contains `node`. */
export function enclosingStatement(node: Node): Node {
  let current = node;
  while (current.parent && !BLOCK_PARENTS.has(current.parent.type)) {
    current = current.parent;
  }
  return current;
}

/** The innermost statement holding `node` that is either in a block or the braceless body of if/else/a loop. */
function innermostStatement(node: Node): Node {
  let current = node;
  while (current.parent && !BLOCK_PARENTS.has(current.parent.type)) {
    const isBody = BRACELESS_PARENTS.has(current.parent.type) && current.type !== 'parenthesized_expression' && current.type !== 'else_clause' &&
      !current.parent.childForFieldName('condition')?.equals(current) && !current.parent.childrenForFieldName('initializer').some((c) => c?.equals(current)) &&
      !current.parent.childrenForFieldName('update').some((c) => c?.equals(current)) && /(_statement|declaration)$/.test(current.type);
    if (isBody) return current;
    current = current.parent;
  }
  return current;
}

function indentationOf(file: ProbeFile, node: Node): string {
  return /^[ \t]*/.exec(file.lines[node.startPosition.row] ?? '')?.[0] ?? '';
}

/** Inserts `lines` (one indentation level per leading tab in each) on new lines after the statement holding `node`. */
export function insertAfterStatement(file: ProbeFile, node: Node, lines: string[]): TextEdit {
  const statement = enclosingStatement(node);
  const indent = indentationOf(file, statement);
  const at = file.positionAt(statement.endIndex);
  return { range: { start: at, end: at }, newText: lines.map((line) => `\n${indent}${line}`).join('') };
}

/** Inserts `lines` on new lines before the statement holding `node` (or before a block's closing brace). */
export function insertBeforeStatement(file: ProbeFile, node: Node, lines: string[]): TextEdit {
  if (node.type === 'compound_statement') {
    const closing = node.endIndex - 1;
    const at = file.positionAt(closing);
    const indent = indentationOf(file, node.namedChildren.find((c) => c != null) ?? node) || '\t';
    const lineStart = { line: at.line, character: 0 };
    return { range: { start: lineStart, end: lineStart }, newText: lines.map((line) => `${indent}${line}\n`).join('') };
  }
  const statement = innermostStatement(node);
  if (!BLOCK_PARENTS.has(statement.parent?.type ?? '')) {
    // a braceless if/loop body: wrap it, or the new statements would run on every path
    return { range: file.rangeOf(statement), newText: `{ ${lines.map((line) => line.trim()).join(' ')} ${file.textOf(statement)} }` };
  }
  const indent = indentationOf(file, statement);
  const lineStart = { line: statement.startPosition.row, character: 0 };
  return { range: { start: lineStart, end: lineStart }, newText: lines.map((line) => `${indent}${line}\n`).join('') };
}

/**
 * Runs the statement holding `node` only when `condition` holds. When that statement is already the body of
 * an `if` whose test mentions `about`, the condition joins that test (`if (x >= 0 && (x < N))`) instead.
 */
export function guardStatement(file: ProbeFile, node: Node, condition: string, about: string): TextEdit {
  const statement = innermostStatement(node);
  const owner = statement.parent;
  const test = owner?.type === 'if_statement' ? owner.childForFieldName('condition') : null;
  const inner = test?.type === 'parenthesized_expression' ? test.namedChild(0) : test;
  if (inner && new RegExp(`\\b${about}\\b`).test(file.textOf(inner))) {
    return { range: file.rangeOf(inner), newText: `${condition} && (${file.textOf(inner)})` };
  }
  const indent = indentationOf(file, statement);
  return { range: file.rangeOf(statement), newText: `if (${condition})\n${indent}\t${file.textOf(statement)}` };
}

/** Inserts `lines` as the first statements of a function body. */
export function insertAtBodyStart(file: ProbeFile, fn: ProbeFunction, lines: string[]): TextEdit {
  const first = fn.body.namedChildren.find((c) => c != null && c.type !== 'comment');
  const indent = first ? indentationOf(file, first) : '\t';
  const at = file.positionAt(fn.body.startIndex + 1);
  return { range: { start: at, end: at }, newText: lines.map((line) => `\n${indent}${line}`).join('') };
}

/** `return X;` that lets the event through for this function's program type (`return;` for void). */
export function neutralReturn(fn: ProbeFunction): string {
  if (/^\s*void\s*$/.test(fn.returnType)) return 'return;';
  if (fn.returnType.includes('*')) return 'return NULL;';
  switch (fn.programType) {
    case 'xdp':
      return 'return XDP_PASS;';
    case 'sched_cls':
    case 'sched_act':
      return 'return TC_ACT_OK;';
    case 'cgroup_skb':
    case 'cgroup_sock':
    case 'cgroup_sock_addr':
    case 'cgroup_device':
    case 'cgroup_sysctl':
    case 'cgroup_sockopt':
    case 'sock_ops':
      return 'return 1;';
    default:
      return 'return 0;';
  }
}
