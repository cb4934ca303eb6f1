// Builds the text edits the flow rules' quick fixes insert: a statement before or after the statement
// holding a node, with that statement's indentation, and the neutral early return of a program type.
import type { Node } from 'web-tree-sitter';
import type { TextEdit } from 'vscode-languageserver-types';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';

/** The statement directly inside a block that contains `node`. */
export function enclosingStatement(node: Node): Node {
  let current = node;
  while (current.parent && current.parent.type !== 'compound_statement' && current.parent.type !== 'case_statement') {
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
  const statement = enclosingStatement(node);
  const indent = indentationOf(file, statement);
  const lineStart = { line: statement.startPosition.row, character: 0 };
  return { range: { start: lineStart, end: lineStart }, newText: lines.map((line) => `${indent}${line}\n`).join('') };
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
