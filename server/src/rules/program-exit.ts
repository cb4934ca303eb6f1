// Where clang puts a function's exit instruction, the line the verifier names for checks made at exit (leaked
// references, R0's range, combined stack size): a lone return's line, else the closing brace or the wrapper macro. Reads tree-sitter nodes.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Range } from 'vscode-languageserver-types';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';

/** The return statements of `fn`'s body. */
export function returnStatements(fn: ProbeFunction): Node[] {
  return fn.body.descendantsOfType('return_statement');
}

/**
 * The source range of `fn`'s exit instruction as clang's line table gives it: clang merges several returns into one
 * exit at the closing brace; a single return ending the body keeps its own line; a BPF_KPROBE/BPF_PROG wrapper's exit is on the macro's line.
 */
export function exitInstructionRange(file: ProbeFile, fn: ProbeFunction): Range {
  if (fn.wrapper) return fn.nameRange;
  const returns = returnStatements(fn);
  const last = fn.body.namedChildren.filter((child) => child != null && child.type !== 'comment').at(-1);
  if (returns.length === 1 && last && returns[0].startIndex >= last.startIndex && returns[0].endIndex <= last.endIndex) return file.rangeOf(returns[0]);
  return file.offsetRange(fn.body.endIndex - 1, fn.body.endIndex);
}
