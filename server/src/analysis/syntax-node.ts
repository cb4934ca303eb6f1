// A plain JavaScript copy of a tree-sitter syntax tree, with the part of web-tree-sitter's Node API the analysis
// reads; built lazily from the live Tree (one TreeCursor walk per top-level declaration) or from the version before.
import type { Language, Node as TreeSitterNode, Tree, TreeCursor } from 'web-tree-sitter';
import { lineIndexAt, lineStartsOf } from './line-starts';

export interface Point {
  row: number;
  column: number;
}

/**
 * Nodes whose children are read one level at a time: the file, #if blocks, extern "C" { … }. Their children (the
 * top-level declarations) are each read whole, in one cursor walk, the first time something below them is asked for.
 */
const CONTAINER_TYPES = new Set(['translation_unit', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef', 'linkage_specification', 'declaration_list']);

/** tree-sitter's id for ERROR nodes (ts_builtin_sym_error, -1 as an unsigned 16-bit number). */
const ERROR_TYPE_ID = 65535;

const NO_CHILDREN: readonly SyntaxNode[] = Object.freeze([]);

/**
 * What an incremental parse changed, in the new version's offsets: [start, end] covers the edited span and
 * every range tree-sitter re-shaped; text after it moved by `shift`.
 */
interface VersionChange {
  before: SyntaxSource;
  start: number;
  end: number;
  shift: number;
}

/** Whether each node type id is named, per language (one wasm call per type the first time it is seen). */
const namedTypesByLanguage = new WeakMap<Language, Map<number, boolean>>();

const sourceOfRoot = new WeakMap<SyntaxNode, SyntaxSource>();

/** One parsed version: the masked text the parser saw, its line starts and the live Tree the nodes are read from. */
class SyntaxSource {
  private lineStarts: number[] | undefined;
  private readonly namedTypes: Map<number, boolean>;
  private readonly types: string[];
  private readonly fields: (string | null)[];
  /** Top-level declarations by start offset, for the next version to copy those its parse kept. */
  readonly topLevelByStart = new Map<number, SyntaxNode>();
  root: SyntaxNode | undefined;
  nextId = 0;

  constructor(
    readonly tree: Tree,
    readonly text: string,
    /** How this version differs from the one before, until the next version is made. */
    private change: VersionChange | undefined,
  ) {
    // so versions do not hold on to every version before them
    if (change) change.before.change = undefined;
    const language = tree.language;
    this.types = language.types;
    this.fields = language.fields;
    let named = namedTypesByLanguage.get(language);
    if (!named) namedTypesByLanguage.set(language, (named = new Map()));
    this.namedTypes = named;
  }

  private isNamedType(typeId: number): boolean {
    let named = this.namedTypes.get(typeId);
    if (named === undefined) {
      named = typeId === ERROR_TYPE_ID || this.tree.language.nodeTypeIsNamed(typeId);
      this.namedTypes.set(typeId, named);
    }
    return named;
  }

  pointAt(offset: number): Point {
    this.lineStarts ??= lineStartsOf(this.text);
    const row = lineIndexAt(this.lineStarts, offset);
    return { row, column: offset - this.lineStarts[row] };
  }

  /** The node the cursor is on, as a child of `parent` (its children not yet read). */
  nodeAt(cursor: TreeCursor, parent: SyntaxNode | null, index: number): SyntaxNode {
    const typeId = cursor.nodeTypeId;
    const fieldId = cursor.currentFieldId;
    const start = cursor.startIndex;
    const end = cursor.endIndex;
    // only an empty node can be one the parser inserted
    const missing = start === end && cursor.nodeIsMissing;
    return new SyntaxNode(this, this.types[typeId] || 'ERROR', this.isNamedType(typeId), missing, fieldId === 0 ? null : this.fields[fieldId], start, end, parent, index);
  }

  /** Reads a node's children from its live node: one level for the file and #if blocks, else the whole subtree. */
  read(node: SyntaxNode, live: TreeSitterNode): readonly SyntaxNode[] {
    const cursor = live.walk();
    try {
      if (!CONTAINER_TYPES.has(node.type)) return this.readSubtree(node, cursor);
      if (node === this.root) {
        const aroundChange = this.readRootAroundChange(node, cursor);
        if (aroundChange) return aroundChange;
        // from the start again, forgetting what the attempt to copy made
        this.topLevelByStart.clear();
        cursor.reset(live);
      }
      return this.readTopLevel(node, cursor);
    } finally {
      cursor.delete();
    }
  }

  /** The children of a container, each taking its subtree from the version before when the parse kept it. */
  private readTopLevel(container: SyntaxNode, cursor: TreeCursor): readonly SyntaxNode[] {
    if (!cursor.gotoFirstChild()) return NO_CHILDREN;
    const children: SyntaxNode[] = [];
    do children.push(this.readTopLevelNode(cursor, container, children.length));
    while (cursor.gotoNextSibling());
    return children;
  }

  private readTopLevelNode(cursor: TreeCursor, container: SyntaxNode, index: number): SyntaxNode {
    const node = this.nodeAt(cursor, container, index);
    if (!CONTAINER_TYPES.has(node.type)) {
      this.topLevelByStart.set(node.startIndex, node);
      const before = this.sameBefore(node);
      if (before && node.copyChildrenOf(before)) return node;
    }
    node.readChildrenFrom(cursor.currentNode);
    return node;
  }

  /** The same top-level node in the version before, when neither the edit nor the parse changed it. */
  private sameBefore(node: SyntaxNode): SyntaxNode | undefined {
    const change = this.change;
    // touching the changed part counts as changed
    if (!change || (node.endIndex >= change.start && node.startIndex <= change.end)) return undefined;
    const found = change.before.topLevelByStart.get(node.startIndex < change.start ? node.startIndex : node.startIndex - change.shift);
    return found && found.type === node.type && found.endIndex - found.startIndex === node.endIndex - node.startIndex ? found : undefined;
  }

  /**
   * The file's top-level nodes, reading through wasm only those from the changed part on to the first one after
   * it that the version before has too; the rest are copied. Undefined when the parse moved more than that.
   */
  private readRootAroundChange(root: SyntaxNode, cursor: TreeCursor): SyntaxNode[] | undefined {
    const change = this.change;
    const before = change?.before.root?.childrenIfRead;
    if (!change || !before) return undefined;
    const children: SyntaxNode[] = [];
    const copy = (from: SyntaxNode, shift: number) => {
      const node = from.copyInto(this, root, children.length, shift);
      if (!CONTAINER_TYPES.has(node.type)) this.topLevelByStart.set(node.startIndex, node);
      children.push(node);
    };
    let next = 0;
    for (; next < before.length && before[next].endIndex < change.start; next++) copy(before[next], 0);
    // past the copied ones (one wasm call each; gotoFirstChildForIndex answers wrongly in web-tree-sitter 0.25)
    let reading = cursor.gotoFirstChild();
    for (let skipped = 0; reading && skipped < children.length; skipped++) reading = cursor.gotoNextSibling();
    for (; reading; reading = cursor.gotoNextSibling()) {
      const node = this.readTopLevelNode(cursor, root, children.length);
      // a copied node was taken into a larger one
      if (node.startIndex < (children.at(-1)?.endIndex ?? 0)) return undefined;
      children.push(node);
      if (node.startIndex <= change.end) continue;
      const same = this.sameBefore(node);
      const from = same ? before.indexOf(same, next) : -1;
      if (from >= 0) {
        for (next = from + 1; next < before.length; next++) copy(before[next], change.shift);
        break;
      }
    }
    return children.length === root.liveChildCount ? children : undefined;
  }

  private readSubtree(root: SyntaxNode, cursor: TreeCursor): readonly SyntaxNode[] {
    if (!cursor.gotoFirstChild()) return NO_CHILDREN;
    const parents: SyntaxNode[] = [];
    const lists: SyntaxNode[][] = [];
    let parent = root;
    let list: SyntaxNode[] = [];
    for (;;) {
      const node = this.nodeAt(cursor, parent, list.length);
      list.push(node);
      if (cursor.gotoFirstChild()) {
        parents.push(parent);
        lists.push(list);
        parent = node;
        list = [];
        continue;
      }
      node.setChildren(NO_CHILDREN);
      while (!cursor.gotoNextSibling()) {
        if (parent === root) return list;
        parent.setChildren(list);
        cursor.gotoParent();
        parent = parents.pop() as SyntaxNode;
        list = lists.pop() as SyntaxNode[];
      }
    }
  }
}

/** A syntax node of one parsed version. Offsets and positions are in UTF-16 code units, as in web-tree-sitter. */
export class SyntaxNode {
  readonly id: number;
  private childList: readonly SyntaxNode[] | undefined;
  private namedChildList: readonly SyntaxNode[] | undefined;
  /** Where the children come from until they are read: the same subtree in an earlier version, or the live node. */
  private live: TreeSitterNode | undefined;
  private template: SyntaxNode | undefined;
  private errorInside: boolean | undefined;

  constructor(
    private readonly source: SyntaxSource,
    readonly type: string,
    readonly isNamed: boolean,
    readonly isMissing: boolean,
    /** The field of the parent this node is in ("body", "condition" …), null for none. */
    readonly fieldName: string | null,
    readonly startIndex: number,
    readonly endIndex: number,
    readonly parent: SyntaxNode | null,
    /** The position among the parent's children. */
    private readonly index: number,
  ) {
    this.id = source.nextId++;
  }

  /** Used while reading the tree: the children, read. */
  setChildren(children: readonly SyntaxNode[]): void {
    this.childList = children;
  }

  /** Used while reading the tree: the children are to be read from this live node when asked for. */
  readChildrenFrom(live: TreeSitterNode): void {
    this.live = live;
  }

  /** Used while reading the tree: this node of an earlier version as a child of `parent`, moved by `shift`. */
  copyInto(source: SyntaxSource, parent: SyntaxNode, index: number, shift: number): SyntaxNode {
    const node = new SyntaxNode(source, this.type, this.isNamed, this.isMissing, this.fieldName, this.startIndex + shift, this.endIndex + shift, parent, index);
    // a container's children are read one level at a time from the live tree, so there is nothing to copy
    if (!CONTAINER_TYPES.has(this.type)) node.copyChildrenOf(this);
    return node;
  }

  /** The children if they have been read (an earlier version's nodes are copied only from what was read). */
  get childrenIfRead(): readonly SyntaxNode[] | undefined {
    return this.childList;
  }

  /** How many children the live tree has, one wasm call (0 for a node without a live node). */
  get liveChildCount(): number {
    return this.live?.childCount ?? 0;
  }

  /**
   * Used while reading the tree: the children are to be copied from the same subtree of an earlier version.
   * False when that node's children were never read (the tree they would be read from may be gone).
   */
  copyChildrenOf(before: SyntaxNode): boolean {
    if (before.childList?.length === 0) {
      this.childList = NO_CHILDREN;
      return true;
    }
    this.template = before.childList ? before : before.template;
    return this.template !== undefined;
  }

  /** The masked text the parser saw (ProbeFile.textOf gives the text as written). */
  get text(): string {
    return this.source.text.slice(this.startIndex, this.endIndex);
  }

  get startPosition(): Point {
    return this.source.pointAt(this.startIndex);
  }

  get endPosition(): Point {
    return this.source.pointAt(this.endIndex);
  }

  get children(): readonly SyntaxNode[] {
    if (this.childList) return this.childList;
    if (this.template) {
      const shift = this.startIndex - this.template.startIndex;
      this.childList = this.template.children.map((before, i) => before.copyInto(this.source, this, i, shift));
      this.template = undefined;
      return this.childList;
    }
    // a top-level node copied from a version where it was not read takes its live node from the root's
    this.live ??= this.parent?.live?.child(this.index) ?? undefined;
    if (!this.live) throw new Error(`syntax node ${this.type} at ${this.startIndex} has no children to read`);
    this.childList = this.source.read(this, this.live);
    return this.childList;
  }

  get namedChildren(): readonly SyntaxNode[] {
    this.namedChildList ??= this.children.filter((child) => child.isNamed);
    return this.namedChildList;
  }

  get childCount(): number {
    return this.children.length;
  }

  get namedChildCount(): number {
    return this.namedChildren.length;
  }

  child(index: number): SyntaxNode | null {
    return this.children[index] ?? null;
  }

  namedChild(index: number): SyntaxNode | null {
    return this.namedChildren[index] ?? null;
  }

  /** The first child in the field, as tree-sitter's childForFieldName (which finds none in an ERROR; childrenForFieldName does). */
  childForFieldName(fieldName: string): SyntaxNode | null {
    if (this.type === 'ERROR') return null;
    // a loop rather than find(): the flow walk asks this for nearly every node
    for (const child of this.children) if (child.fieldName === fieldName) return child;
    return null;
  }

  childrenForFieldName(fieldName: string): SyntaxNode[] {
    return this.children.filter((child) => child.fieldName === fieldName);
  }

  get previousSibling(): SyntaxNode | null {
    return this.parent?.children[this.index - 1] ?? null;
  }

  get nextSibling(): SyntaxNode | null {
    return this.parent?.children[this.index + 1] ?? null;
  }

  get previousNamedSibling(): SyntaxNode | null {
    const siblings = this.parent?.children ?? NO_CHILDREN;
    for (let i = this.index - 1; i >= 0; i--) if (siblings[i].isNamed) return siblings[i];
    return null;
  }

  get nextNamedSibling(): SyntaxNode | null {
    const siblings = this.parent?.children ?? NO_CHILDREN;
    for (let i = this.index + 1; i < siblings.length; i++) if (siblings[i].isNamed) return siblings[i];
    return null;
  }

  /** This node or one below it is an ERROR or a node the parser inserted. */
  get hasError(): boolean {
    // a node not read yet asks tree-sitter (one call) or its earlier copy rather than reading its subtree
    this.errorInside ??= this.live?.hasError ?? this.template?.hasError ?? (this.type === 'ERROR' || this.isMissing || this.children.some((child) => child.hasError));
    return this.errorInside;
  }

  /** This node and the nodes below it of the given types, in text order (the node first), as web-tree-sitter's descendantsOfType. */
  descendantsOfType(types: string | readonly string[]): SyntaxNode[] {
    const wanted = typeof types === 'string' ? [types] : types;
    const found: SyntaxNode[] = [];
    const stack: SyntaxNode[] = [this];
    while (stack.length > 0) {
      const node = stack.pop() as SyntaxNode;
      // tree-sitter's walk passes over nodes that end at the very start of the file
      if (node.endIndex === 0) continue;
      if (wanted.includes(node.type)) found.push(node);
      const children = node.children;
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
    return found;
  }

  /** The smallest node here that spans [start, end], as tree-sitter's descendantForIndex. */
  descendantForIndex(start: number, end = start): SyntaxNode {
    return childSpanning(this.children, start, end)?.descendantForIndex(start, end) ?? this;
  }

  equals(other: SyntaxNode): boolean {
    return this === other;
  }
}

/** The version a tree was parsed incrementally from: its root (with the tree still alive) and the span edited since. */
export interface PreviousVersion {
  root: SyntaxNode;
  edit: { start: number; oldEnd: number; newEnd: number };
}

/** The first child that spans [start, end] (an empty child at `start` counts), as tree-sitter's descent picks it. */
function childSpanning(children: readonly SyntaxNode[], start: number, end: number): SyntaxNode | undefined {
  for (const child of children) {
    if (child.endIndex < end) continue;
    if (child.startIndex === child.endIndex ? child.endIndex < start : child.endIndex <= start) continue;
    return start < child.startIndex ? undefined : child;
  }
  return undefined;
}

/**
 * The root of a lazily read tree. A top-level declaration that neither the edit since `previous` nor the
 * re-parse changed is copied from `previous` instead of read through wasm. Call while the previous tree is
 * alive and edited to match (right after the incremental parse).
 */
export function syntaxRoot(tree: Tree, maskedText: string, previous?: PreviousVersion): SyntaxNode {
  const before = previous && sourceOfRoot.get(previous.root);
  let change: VersionChange | undefined;
  if (before && previous) {
    const { edit } = previous;
    change = { before, start: edit.start, end: edit.newEnd, shift: edit.newEnd - edit.oldEnd };
    for (const range of before.tree.getChangedRanges(tree)) {
      change.start = Math.min(change.start, range.startIndex);
      change.end = Math.max(change.end, range.endIndex);
    }
  }
  const source = new SyntaxSource(tree, maskedText, change);
  const live = tree.rootNode;
  const cursor = live.walk();
  try {
    const root = source.nodeAt(cursor, null, 0);
    root.readChildrenFrom(live);
    source.root = root;
    sourceOfRoot.set(root, source);
    return root;
  } finally {
    cursor.delete();
  }
}
