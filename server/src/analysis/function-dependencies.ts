// What a function's checks can read outside the function: the top-level declarations defining the names it uses
// (followed through the names those use in turn), and what every function reads (#includes, licence, kernel).
import { createHash } from 'node:crypto';
import type { SyntaxNode as Node } from './syntax-node';
import type { ProbeFile, ProbeFunction } from './probe-file';
import { READ_ONLY_GLOBAL } from './c-values';
import { topLevelLayout, type TopLevelSegment } from './top-level-segments';

/** How the checks look a name up: as a macro, type or global; a struct tag; a map (`&name`); a callee; a struct field. */
const NAMESPACES = ['word', 'tag', 'map', 'call', 'field'] as const;
type Namespace = (typeof NAMESPACES)[number];

/** The names a top-level segment defines and uses; over-approximated (a name too many only re-checks more). */
interface SegmentNames {
  defines: Record<Namespace, string[]>;
  /** A declaration's declarator names: words, or map names when it declares a map. */
  declarators: string[];
  /** Uses by namespace: every word of the text (comments and strings included); words after struct/union/enum, after `&`, before `(`, after `.` or `->`. */
  uses: Record<Namespace, Set<string>>;
  /** Read by every function's checks, whatever names they use (#include, licence, ring buffer map, unknown or broken syntax). */
  global: boolean;
  /**
   * For a function: what the others' checks read of it, when that is less than its whole text. They read its header
   * (callers), and the #define, typedef and `const` lines the text searches find in its body, not the rest.
   */
  exported?: { text: string; uses: Record<Namespace, Set<string>> };
}

/** Declarations whose names the tree shows; any other top-level node is read by every function. */
const DECLARATION_TYPES = new Set(['preproc_def', 'preproc_function_def', 'declaration', 'type_definition', 'struct_specifier', 'union_specifier', 'enum_specifier', 'preproc_call']);

/** What the checks read from the whole text rather than by name (bpf_core_read.h and #include lines for fixes, the licence, the one ring buffer). */
const READ_BY_EVERY_FUNCTION = /#\s*include\b|bpf_core_read\.h/;
const DECLARATION_READ_BY_EVERY_FUNCTION = /#\s*include\b|bpf_core_read\.h|license|RINGBUF/i;

/** Names the checks find by searching the text (c-values' #define, typedef and read-only global patterns). */
const DEFINED_IN_TEXT = [/^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)/gm, /typedef\s+[\w\s]+?\s+(\w+)\s*;/g, READ_ONLY_GLOBAL];

const WORD = /[A-Za-z_]\w*/g;
const USE_PATTERNS: Record<Exclude<Namespace, 'word'>, RegExp> = {
  tag: /\b(?:struct|union|enum)\s+([A-Za-z_]\w*)/g,
  // `&name`, `&(name)`, `&(void *)name`: every word up to the first other character
  map: /&([\w\s()*]*)/g,
  call: /([A-Za-z_]\w*)\s*\(/g,
  field: /(?:\.|->)\s*([A-Za-z_]\w*)/g,
};

function usesIn(text: string): Record<Namespace, Set<string>> {
  const captured = (pattern: RegExp) => [...text.matchAll(pattern)].map((match) => match[1]);
  return {
    word: new Set(text.match(WORD) ?? []),
    tag: new Set(captured(USE_PATTERNS.tag)),
    map: new Set(captured(USE_PATTERNS.map).flatMap((words) => words.match(WORD) ?? [])),
    call: new Set(captured(USE_PATTERNS.call)),
    field: new Set(captured(USE_PATTERNS.field)),
  };
}

/** c-values lays out structs (not unions or enums) by tag. */
const TAG_IN_TEXT = /\bstruct\s+(\w+)\s*\{/g;

function definitionsInText(text: string): RegExpMatchArray[] {
  return DEFINED_IN_TEXT.flatMap((pattern) => [...text.matchAll(pattern)]);
}

function declaratorName(declarator: Node | null): string | null {
  let current = declarator;
  while (current && current.type !== 'identifier' && current.type !== 'type_identifier') current = current.childForFieldName('declarator');
  return current?.text ?? null;
}

/** Names a declaration defines as the tree shows them: macro, declarators, enumerators (words), struct tags. */
function declaredNames(node: Node): { words: string[]; declarators: number; tags: string[] } {
  const words: string[] = [];
  const tags: string[] = [];
  const add = (list: string[], name: string | null | undefined) => {
    if (name) list.push(name);
  };
  if (node.type === 'preproc_def' || node.type === 'preproc_function_def') add(words, node.childForFieldName('name')?.text);
  if (node.type === 'declaration' || node.type === 'type_definition') {
    for (const declarator of node.childrenForFieldName('declarator')) add(words, declaratorName(declarator));
  }
  const declarators = words.length;
  for (const named of node.descendantsOfType(['struct_specifier', 'enumerator'])) {
    if (named?.type === 'enumerator') add(words, named.childForFieldName('name')?.text);
    // `struct hist zero;` uses the tag; `struct hist { … }` defines it
    else if (named?.childForFieldName('body')) tags.push(named.childForFieldName('name')?.text ?? '');
  }
  return { words, declarators, tags: tags.filter((name) => name !== '') };
}

function fieldNames(node: Node): string[] {
  return node.descendantsOfType('field_declaration').flatMap((field) => field?.descendantsOfType('field_identifier').map((name) => name?.text ?? '') ?? []);
}

/** Segment names by segment text, shared by every document (the names depend on the text alone). */
const namesByText = new Map<string, SegmentNames>();
const NAMES_KEPT = 20_000;

function segmentNames(segment: TopLevelSegment, text: string): SegmentNames {
  const key = `${segment.fn ? 'f' : 'd'}\u0000${text}`;
  let names = namesByText.get(key);
  if (names) return names;
  const definitions = definitionsInText(text);
  const textDefines = definitions.map((match) => match[1]);
  const textTags = [...text.matchAll(TAG_IN_TEXT)].map((match) => match[1]);
  const uses = usesIn(text);
  if (segment.fn) {
    const fields = fieldNames(segment.node);
    // struct definitions and fields in a body are read through whole-tree scans: then the whole text counts
    const exportedText = textTags.length === 0 && fields.length === 0
      ? [text.slice(0, segment.fn.body.startIndex - segment.start), ...definitions.map((match) => match[0])].join('\u0000')
      : undefined;
    names = {
      defines: { word: textDefines, tag: textTags, map: [], call: [segment.fn.name], field: fields },
      declarators: [],
      uses,
      global: READ_BY_EVERY_FUNCTION.test(text),
      ...(exportedText !== undefined ? { exported: { text: exportedText, uses: usesIn(exportedText) } } : {}),
    };
  } else {
    const node = segment.node;
    const declared = declaredNames(node);
    const declarators = declared.words.slice(0, declared.declarators);
    // declarators go to the word or map namespace once the file says whether this is a map (dependencyIndex); a prototype's name is a callee too
    names = {
      defines: {
        word: [...declared.words.slice(declarators.length), ...textDefines],
        tag: [...declared.tags, ...textTags],
        map: [],
        call: declarators,
        field: node.descendantsOfType('field_identifier').map((name) => name?.text ?? ''),
      },
      declarators,
      uses,
      global: !DECLARATION_TYPES.has(node.type) || node.hasError || DECLARATION_READ_BY_EVERY_FUNCTION.test(text),
    };
  }
  if (namesByText.size >= NAMES_KEPT) namesByText.clear();
  namesByText.set(key, names);
  return names;
}

interface DependencyIndex {
  segments: TopLevelSegment[];
  texts: string[];
  names: SegmentNames[];
  /** Which segments declare maps (their declarators are map names, not words). */
  isMap: boolean[];
  definers: Record<Namespace, Map<string, number[]>>;
  /** The part every function reads: target kernel, helper facts, global segments and the tail, hashed. */
  shared: string;
  kernel: string;
  tail: string;
  bySegmentStart: Map<number, number>;
  /** Function keys by segment, filled as they are asked for. */
  keys: (string | undefined)[];
  /** Keys carried over from the previous version of the document, for functions whose dependencies did not change. */
  carried: Map<number, string>;
}

const indexes = new WeakMap<ProbeFile, DependencyIndex>();

function addTo(map: Map<string, number[]>, name: string, index: number): void {
  const list = map.get(name);
  if (list) {
    if (list[list.length - 1] !== index) list.push(index);
  } else {
    map.set(name, [index]);
  }
}

/** What the others' checks read of a segment (the same text means the same names defined and used). */
function dependentsRead(names: SegmentNames, text: string): string {
  return names.exported?.text ?? text;
}

function definedNames(names: SegmentNames, isMap: boolean): Record<Namespace, string[]> {
  const defines = { ...names.defines };
  defines[isMap ? 'map' : 'word'] = [...defines[isMap ? 'map' : 'word'], ...names.declarators];
  return defines;
}

function dependencyIndex(file: ProbeFile): DependencyIndex {
  let index = indexes.get(file);
  if (index) return index;
  const layout = topLevelLayout(file);
  const { segments, tailStart, previous } = layout;
  const before = previous && indexes.get(previous.file);
  // a segment the edit left alone keeps the previous version's text and names
  const kept = (i: number) => (before ? previous.same[i] : undefined);
  const texts = segments.map((segment, i) => before?.texts[kept(i) ?? -1] ?? file.text.slice(segment.start, segment.end));
  const names = segments.map((segment, i) => before?.names[kept(i) ?? -1] ?? segmentNames(segment, texts[i]));
  const maps = new Set(file.maps.map((map) => map.node.startIndex));
  const isMap = segments.map((segment) => maps.has(segment.node.startIndex));
  const kernel = `${file.targetKernel.major}.${file.targetKernel.minor}.${file.targetKernel.patch} ${file.helperAvailability.key}`;
  const tail = file.text.slice(tailStart);
  const reused = before && previous && before.kernel === kernel && before.tail === tail && sameDefinitions(before, previous.same, names, isMap);
  index = {
    segments, texts, names, isMap, kernel, tail,
    ...(reused ? { definers: before.definers, shared: before.shared } : definersAndShared(texts, names, isMap, kernel, tail)),
    bySegmentStart: layout.byNodeStart,
    keys: [], carried: new Map(),
  };
  if (before) carryKeys(before, index);
  indexes.set(file, index);
  return index;
}

/** Whether the segments define the same names at the same indexes as the previous version's, and read by every function the same text. */
function sameDefinitions(before: DependencyIndex, same: (number | undefined)[], names: SegmentNames[], isMap: boolean[]): boolean {
  if (names.length !== before.names.length) return false;
  return names.every((segmentNames, i) => {
    if (isMap[i] !== before.isMap[i]) return false;
    if (same[i] === i) return true;
    const old = before.names[i];
    return !segmentNames.global && !old.global && JSON.stringify(definedNames(segmentNames, isMap[i])) === JSON.stringify(definedNames(old, isMap[i]));
  });
}

function definersAndShared(texts: string[], names: SegmentNames[], isMap: boolean[], kernel: string, tail: string): Pick<DependencyIndex, 'definers' | 'shared'> {
  const definers = { word: new Map(), tag: new Map(), map: new Map(), call: new Map(), field: new Map() } as Record<Namespace, Map<string, number[]>>;
  const shared = createHash('sha1');
  shared.update(`${kernel}\u0000`);
  names.forEach((segmentNames, i) => {
    const defines = definedNames(segmentNames, isMap[i]);
    for (const space of NAMESPACES) for (const name of defines[space]) addTo(definers[space], name, i);
    if (segmentNames.global) shared.update(`${texts[i]}\u0000`);
  });
  shared.update(tail);
  return { definers, shared: shared.digest('base64') };
}

/**
 * Keys of the previous version that still hold: the segments before and after the edited ones line up, and a
 * function there keeps its key when its own text is the same and nothing it reads (transitively) defines or
 * uses a name the edited segments defined before or define now.
 */
function carryKeys(previous: DependencyIndex, index: DependencyIndex): void {
  if (previous.shared !== index.shared) return;
  const same = (from: number, to: number) =>
    previous.isMap[from] === index.isMap[to] && dependentsRead(previous.names[from], previous.texts[from]) === dependentsRead(index.names[to], index.texts[to]);
  const before = previous.texts.length;
  const after = index.texts.length;
  let prefix = 0;
  while (prefix < before && prefix < after && same(prefix, prefix)) prefix++;
  let suffix = 0;
  while (suffix < before - prefix && suffix < after - prefix && same(before - 1 - suffix, after - 1 - suffix)) suffix++;
  // names whose definitions changed, by namespace
  const changed = { word: new Set(), tag: new Set(), map: new Set(), call: new Set(), field: new Set() } as Record<Namespace, Set<string>>;
  const addDefinitions = (names: SegmentNames, isMap: boolean) => {
    const defines = definedNames(names, isMap);
    for (const space of NAMESPACES) for (const name of defines[space]) changed[space].add(name);
  };
  for (let i = prefix; i < before - suffix; i++) addDefinitions(previous.names[i], previous.isMap[i]);
  for (let i = prefix; i < after - suffix; i++) addDefinitions(index.names[i], index.isMap[i]);
  const usesChanged = (uses: Record<Namespace, Set<string>>) => NAMESPACES.some((space) => {
    const [small, large] = changed[space].size < uses[space].size ? [changed[space], uses[space]] : [uses[space], changed[space]];
    for (const name of small) if (large.has(name)) return true;
    return false;
  });
  // a segment reading a changed name changes what reads it in turn: its names join the changed ones until none is added
  const tainted = new Set<number>();
  for (let grew = NAMESPACES.some((space) => changed[space].size > 0); grew; ) {
    grew = false;
    index.names.forEach((names, i) => {
      if (tainted.has(i) || !usesChanged(names.exported?.uses ?? names.uses)) return;
      tainted.add(i);
      addDefinitions(names, index.isMap[i]);
      grew = true;
    });
  }
  const carry = (from: number, to: number) => {
    const key = previous.keys[from];
    if (key !== undefined && previous.texts[from] === index.texts[to] && !usesChanged(index.names[to].uses)) index.carried.set(to, key);
  };
  for (let i = 0; i < prefix; i++) carry(i, i);
  for (let i = 0; i < suffix; i++) carry(before - 1 - i, after - 1 - i);
}

/**
 * A key for everything outside `fn` that its checks can read: equal across two versions when the declarations
 * defining the names it uses (and the names those use, in turn), the functions it calls (their headers), what every
 * function reads, and the target are unchanged. The function's own text is not part of it.
 */
export function functionDependencyKey(file: ProbeFile, fn: ProbeFunction): string {
  const index = dependencyIndex(file);
  const own = index.bySegmentStart.get(fn.node.startIndex);
  if (own === undefined) return `${index.shared}\u0000${file.outsideBodiesHash}`;
  const key = index.keys[own] ?? index.carried.get(own) ?? reachedKey(index, own);
  index.keys[own] = key;
  return key;
}

/** The key from the segments a function reaches through the names it uses. */
function reachedKey(index: DependencyIndex, own: number): string {
  const reached = new Set<number>([own]);
  const pending = [own];
  const reach = (list: number[] | undefined) => {
    for (const i of list ?? []) {
      if (reached.has(i)) continue;
      reached.add(i);
      pending.push(i);
    }
  };
  while (pending.length > 0) {
    const i = pending.pop() as number;
    const names = index.names[i];
    const uses = (i !== own && names.exported?.uses) || names.uses;
    for (const space of NAMESPACES) {
      // mapNamed finds the first map of a name: the later ones are never read
      for (const name of uses[space]) reach(space === 'map' ? index.definers.map.get(name)?.slice(0, 1) : index.definers[space].get(name));
    }
  }
  reached.delete(own);
  const hash = createHash('sha1');
  hash.update(index.shared);
  for (const i of [...reached].sort((a, b) => a - b)) hash.update(`\u0000${dependentsRead(index.names[i], index.texts[i])}`);
  return hash.digest('base64');
}

/** The text a function's own findings depend on: its definition with the comments, SEC(…) and attributes before it. */
export function functionOwnText(file: ProbeFile, fn: ProbeFunction): string {
  const index = dependencyIndex(file);
  const own = index.bySegmentStart.get(fn.node.startIndex);
  return own === undefined ? file.textOf(fn.node) : index.texts[own];
}
