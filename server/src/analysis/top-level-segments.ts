// A probe file cut into its top-level pieces in text order: each declaration or function definition with
// the text before it (comments, SEC(…), attributes, #if lines). Talks to ProbeFile and its tree-sitter tree.
import type { SyntaxNode as Node } from './syntax-node';
import { topLevelNodes, type ProbeFile, type ProbeFunction } from './probe-file';

export interface TopLevelSegment {
  /** Where the previous segment ended: the comments and macros before the node belong to it. */
  start: number;
  end: number;
  node: Node;
  /** The function this node defines (null for a declaration, or a definition the file does not count as a function). */
  fn: ProbeFunction | null;
}

export interface TopLevelLayout {
  segments: TopLevelSegment[];
  /** Text after the last segment (trailing comments, #endif lines). */
  tailStart: number;
}

const layouts = new WeakMap<ProbeFile, TopLevelLayout>();

/** The file's top-level segments; every character of the text lies in one segment or in the tail. */
export function topLevelLayout(file: ProbeFile): TopLevelLayout {
  let layout = layouts.get(file);
  if (layout) return layout;
  const functions = new Map(file.functions.map((fn) => [fn.node.startIndex, fn]));
  const segments: TopLevelSegment[] = [];
  let previousEnd = 0;
  // a comment goes with the node after it, as collectTopLevel reads a function's header from the previous node's end
  for (const node of topLevelNodes(file.root)) {
    segments.push({ start: previousEnd, end: node.endIndex, node, fn: functions.get(node.startIndex) ?? null });
    previousEnd = node.endIndex;
  }
  layout = { segments, tailStart: previousEnd };
  layouts.set(file, layout);
  return layout;
}

/** Top-level nodes other than the file's functions (struct, #define, map, global, typedef …), in text order. */
export function declarationsOutsideFunctions(file: ProbeFile): Node[] {
  return topLevelLayout(file).segments.flatMap((segment) => (segment.fn ? [] : [segment.node]));
}
