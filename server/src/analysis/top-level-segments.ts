// A probe file cut into its top-level pieces in text order: each declaration or function definition with
// the text before it (comments, SEC(…), attributes, #if lines), lined up with the document's previous version.
import type { SyntaxNode as Node } from './syntax-node';
import type { ProbeFile, ProbeFunction } from './probe-file';
import { diffSpan } from './probe-document';

export interface TopLevelSegment {
  /** Where the previous segment ended: the comments and macros before the node belong to it. */
  start: number;
  end: number;
  node: Node;
  /** The function this node defines (null for a declaration, or a definition the file does not count as a function). */
  fn: ProbeFunction | null;
  /** The function's body as offsets (kept once the version's tree is gone); null when `fn` is. */
  body: { start: number; end: number } | null;
}

/** How a layout lines up with the last laid-out version of the same document. */
export interface PreviousLayout {
  file: ProbeFile;
  layout: TopLevelLayout;
  /** Per segment of this version: the index of the previous version's segment with the same text, when the edit between them left it alone. */
  same: (number | undefined)[];
  /** The versions differ only inside one function's body (the same function in both): the text outside function bodies is the same. */
  bodyEdit: boolean;
}

export interface TopLevelLayout {
  segments: TopLevelSegment[];
  /** Text after the last segment (trailing comments, #endif lines). */
  tailStart: number;
  /** Segment indexes by their node's start. */
  byNodeStart: Map<number, number>;
  /** Per segment, values computed from its text alone (see segmentMemo); shared with the versions before while the edits leave it alone. */
  memos: (Map<string, unknown> | undefined)[];
  /** Unset once a newer version of the document is laid out (so versions do not hold on to every version before them). */
  previous: PreviousLayout | undefined;
}

const layouts = new WeakMap<ProbeFile, TopLevelLayout>();
/** The last version laid out, by document. */
const lastLaidOut = new Map<string, ProbeFile>();

/** The file's top-level segments; every character of the text lies in one segment or in the tail. */
export function topLevelLayout(file: ProbeFile): TopLevelLayout {
  let layout = layouts.get(file);
  if (layout) return layout;
  const functions = new Map(file.functions.map((fn) => [fn.node.startIndex, fn]));
  const segments: TopLevelSegment[] = [];
  let previousEnd = 0;
  // a comment goes with the node after it, as collectTopLevel reads a function's header from the previous node's end
  for (const node of file.topLevelDeclarations) {
    const fn = functions.get(node.startIndex) ?? null;
    segments.push({ start: previousEnd, end: node.endIndex, node, fn, body: fn && { start: fn.body.startIndex, end: fn.body.endIndex } });
    previousEnd = node.endIndex;
  }
  layout = {
    segments,
    tailStart: previousEnd,
    byNodeStart: new Map(segments.map((segment, i) => [segment.node.startIndex, i])),
    memos: [],
    previous: undefined,
  };
  const before = lastLaidOut.get(file.uri);
  const beforeLayout = before && layouts.get(before);
  if (before && beforeLayout && before !== file) {
    beforeLayout.previous = undefined;
    layout.previous = lineUp(before, beforeLayout, file, layout);
    layout.previous.same.forEach((j, i) => {
      if (j !== undefined) layout.memos[i] = beforeLayout.memos[j] ??= new Map();
    });
  }
  lastLaidOut.set(file.uri, file);
  layouts.set(file, layout);
  return layout;
}

/**
 * Segments that lie wholly before the span where the texts differ, or wholly after it (moved by the length
 * change), at the same place in both versions, have the same text.
 */
function lineUp(beforeFile: ProbeFile, before: TopLevelLayout, file: ProbeFile, layout: TopLevelLayout): PreviousLayout {
  const span = diffSpan(beforeFile.text, file.text) ?? { start: file.text.length, oldEnd: file.text.length, newEnd: file.text.length };
  const shift = span.newEnd - span.oldEnd;
  const countShift = layout.segments.length - before.segments.length;
  const same = layout.segments.map((segment, i) => {
    const j = segment.end <= span.start ? i : segment.start >= span.newEnd ? i - countShift : -1;
    const moved = segment.end <= span.start ? 0 : shift;
    const old = before.segments[j];
    return old && old.start + moved === segment.start && old.end + moved === segment.end ? j : undefined;
  });
  const edited = same.flatMap((j, i) => (j === undefined ? [i] : []));
  const tailSame = layout.tailStart >= span.newEnd && before.tailStart + shift === layout.tailStart;
  const bodyEdit = countShift === 0 && tailSame && edited.length === 1 && insideBodyOfBoth(before.segments[edited[0]], layout.segments[edited[0]], span);
  return { file: beforeFile, layout: before, same, bodyEdit };
}

/** Whether the edit lies inside the braces of the same function's body in both versions, the text around the body unchanged. */
function insideBodyOfBoth(before: TopLevelSegment, after: TopLevelSegment, span: { start: number; oldEnd: number; newEnd: number }): boolean {
  const old = before.body;
  const now = after.body;
  if (!old || !now || old.start !== now.start || before.start !== after.start) return false;
  return old.start < span.start && span.oldEnd < old.end && span.newEnd < now.end && before.end - old.end === after.end - now.end;
}

/**
 * A value computed from the text of the top-level declaration or function at `node` alone, kept while later versions
 * leave that text alone. It must not hold tree nodes or offsets (they belong to one version).
 */
export function segmentMemo<T>(file: ProbeFile, node: Node, key: string, compute: () => T): T {
  const layout = topLevelLayout(file);
  const index = layout.byNodeStart.get(node.startIndex);
  if (index === undefined || layout.segments[index].node !== node) return compute();
  const memo = (layout.memos[index] ??= new Map());
  if (!memo.has(key)) memo.set(key, compute());
  return memo.get(key) as T;
}

/** Top-level nodes other than the file's functions (struct, #define, map, global, typedef …), in text order. */
export function declarationsOutsideFunctions(file: ProbeFile): Node[] {
  return topLevelLayout(file).segments.flatMap((segment) => (segment.fn ? [] : [segment.node]));
}
