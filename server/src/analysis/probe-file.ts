// ProbeFile: one parsed eBPF C file and the facts rules need (functions, SEC sections, program
// types, helper calls, maps, licence, target kernel), derived lazily from the tree-sitter tree.
import type { Tree } from 'web-tree-sitter';
import { syntaxRoot, type SyntaxNode as Node } from './syntax-node';
import { createHash } from 'node:crypto';
import type { Position, Range } from 'vscode-languageserver-types';
import type { MaskedMacro } from './bpf-macro-mask';
import { kernelFacts, type HelperInfo, type KernelFacts } from '../kernel/kernel-facts';
import type { KernelVersion } from '../kernel/kernel-version';
import { HelperAvailability } from '../kernel/helper-availability';
import type { SectionMatch } from '../kernel/sections';
import type { ProgramType } from '../kernel/program-types';
import { segmentMemo, topLevelLayout } from './top-level-segments';
import { lineIndexAt, lineStartsOf } from './line-starts';

export interface FunctionParam {
  name: string | null;
  /** The declared type as written, e.g. "struct xdp_md *" or "int". */
  type: string;
  node: Node;
}

export interface CallSite {
  /** The called name (identifier callee only; `ptr->fn()` has no call site). */
  name: string;
  /** The call_expression node. */
  node: Node;
  nameNode: Node;
  /** Argument expression nodes, in order. */
  args: Node[];
}

export interface HelperCall extends CallSite {
  helper: HelperInfo;
  /** The libbpf macro the call was written as (bpf_printk, BPF_CORE_READ …), when not the helper itself. */
  viaMacro?: string;
}

/** libbpf macros that expand to a helper call (bpf_helpers.h, bpf_core_read.h, bpf_tracing.h). */
/** How a helper call reads in messages: "bpf_printk (bpf_trace_printk)" for a macro. */
export function helperCallLabel(call: HelperCall): string {
  return call.viaMacro ? `${call.viaMacro} (${call.helper.name})` : call.helper.name;
}

export const HELPER_MACROS: Readonly<Record<string, string>> = {
  bpf_printk: 'bpf_trace_printk',
  BPF_SEQ_PRINTF: 'bpf_seq_printf',
  BPF_SNPRINTF: 'bpf_snprintf',
  bpf_core_read: 'bpf_probe_read_kernel',
  bpf_core_read_str: 'bpf_probe_read_kernel_str',
  bpf_core_read_user: 'bpf_probe_read_user',
  bpf_core_read_user_str: 'bpf_probe_read_user_str',
  BPF_CORE_READ: 'bpf_probe_read_kernel',
  BPF_CORE_READ_INTO: 'bpf_probe_read_kernel',
  BPF_CORE_READ_STR_INTO: 'bpf_probe_read_kernel_str',
  BPF_CORE_READ_USER: 'bpf_probe_read_user',
  BPF_CORE_READ_USER_INTO: 'bpf_probe_read_user',
  BPF_CORE_READ_USER_STR_INTO: 'bpf_probe_read_user_str',
  BPF_PROBE_READ: 'bpf_probe_read',
  BPF_PROBE_READ_INTO: 'bpf_probe_read',
  BPF_PROBE_READ_STR_INTO: 'bpf_probe_read_str',
  BPF_PROBE_READ_USER: 'bpf_probe_read_user',
  BPF_PROBE_READ_USER_INTO: 'bpf_probe_read_user',
  BPF_PROBE_READ_USER_STR_INTO: 'bpf_probe_read_user_str',
};

export interface ProbeFunction {
  name: string;
  /** The function_definition node. */
  node: Node;
  /** The name as written (for a BPF_KPROBE(name, …) wrapper, inside the macro). */
  nameRange: Range;
  /** The compound_statement body. */
  body: Node;
  /** The SEC("…") name, when the function has one. */
  section: string | null;
  sectionRange: Range | null;
  /** What libbpf makes of the section name; null for no section or an unknown one. */
  sectionMatch: SectionMatch | null;
  /** The program's own type (from its section); null for subprograms and unknown sections. */
  programType: ProgramType | null;
  /** Has a SEC("…"): libbpf loads it as a program. Otherwise it is a subprogram (or inlined). */
  isProgram: boolean;
  isStatic: boolean;
  /** `inline` or `__always_inline`: the compiler inlines it, so it has no frame of its own. */
  isInline: boolean;
  isAlwaysInline: boolean;
  isNoinline: boolean;
  isWeak: boolean;
  /** The libbpf wrapper macro used to declare it (BPF_KPROBE, BPF_PROG …), if any. */
  wrapper: string | null;
  returnType: string;
  readonly params: FunctionParam[];
  /** Every call with an identifier callee in the body. */
  readonly calls: CallSite[];
  /** Calls of known BPF helpers in the body. */
  readonly helperCalls: HelperCall[];
  /** Program types this code runs as: its own for a program, its callers' for a subprogram. */
  readonly programTypes: ProgramType[];
}

export interface MapField {
  /** The written value ("BPF_MAP_TYPE_HASH", "u32", "1024", "struct event"). */
  value: string;
  range: Range;
}

export interface MapDefinition {
  name: string;
  node: Node;
  nameRange: Range;
  /** BPF_MAP_TYPE_… as written, null when not given or not a name. */
  type: string | null;
  keyType: string | null;
  valueType: string | null;
  maxEntries: string | null;
  /** Every field given (type, key, value, key_size, value_size, max_entries, map_flags, pinning …). */
  fields: Record<string, MapField>;
  /** Declared the pre-BTF way: `struct bpf_map_def SEC("maps") name = { … }`. */
  legacy: boolean;
}

export interface LicenseDeclaration {
  /** The licence string; null when it is not a string literal here (a macro, for example). */
  value: string | null;
  /** The whole declaration. */
  range: Range;
  /** The string literal (with its quotes), or the whole declaration when there is none. */
  valueRange: Range;
}

export interface DataSectionVariable {
  name: string;
  section: string;
  sectionRange: Range;
  node: Node;
}

/** The span of this version's text that an edit changed: [start, newEnd) now, [start, oldEnd) before. */
export interface EditedSpan {
  start: number;
  oldEnd: number;
  newEnd: number;
}

export interface ProbeFileOptions {
  uri: string;
  targetKernel: KernelVersion;
  /** Which helpers each program type may call on the target (default: the snapshot). */
  helperAvailability?: HelperAvailability;
  /** What the edit that produced this version changed; null for a first (full) parse. */
  changed?: EditedSpan | null;
  /** Per-function values kept across versions of one document (see ProbeFile.memoizeForContext). */
  functionMemo?: FunctionMemo;
  /** The version this one was parsed incrementally from: its syntax tree lends the subtrees the parse kept. */
  previousVersion?: ProbeFile | null;
}

/**
 * Values derived from one function, kept across the versions of a document: an entry is reused
 * while the function's text, column, the file outside function bodies and the target kernel are
 * unchanged. Entries not used by the last two versions are dropped.
 */
export class FunctionMemo {
  private current = new Map<string, unknown>();
  private previous = new Map<string, unknown>();

  /** Starts a new version: what the version before last did not use is forgotten. */
  nextVersion(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  get<T>(key: string, compute: () => T): T {
    if (this.current.has(key)) return this.current.get(key) as T;
    const value = this.previous.has(key) ? (this.previous.get(key) as T) : compute();
    this.current.set(key, value);
    return value;
  }
}

/** A name called in a function body (calls are found in the text: see callerProgramTypes). */
const CALLED_NAME = /\b([A-Za-z_]\w*)\s*\(/g;

/** The GPL-compatible licence strings the kernel accepts (include/linux/license.h). */
const GPL_COMPATIBLE = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);

/** Nodes whose children are the top-level declarations (#if blocks, extern "C" { … }). */
const CONTAINER_TYPES = new Set(['translation_unit', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef', 'linkage_specification', 'declaration_list']);

/** The top-level nodes of a file in text order, looking inside #if blocks and `extern "C"`; comments left out. */
export function topLevelNodes(container: Node): Node[] {
  // namedChildren in one call: namedChild(i) walks the children from the first each time
  return container.namedChildren.flatMap((node) => {
    if (!node || node.type === 'comment') return [];
    return CONTAINER_TYPES.has(node.type) ? topLevelNodes(node) : [node];
  });
}

export class ProbeFile {
  readonly uri: string;
  /** The text as the user wrote it. */
  readonly text: string;
  /** The text the parser saw: BPF macros masked with same-length C (offsets and lines identical). */
  readonly maskedText: string;
  readonly tree: Tree;
  readonly macros: readonly MaskedMacro[];
  readonly targetKernel: KernelVersion;
  /** The span the edit that produced this version changed; null for a full parse. */
  readonly changed: EditedSpan | null;
  readonly kernel: KernelFacts = kernelFacts;
  readonly helperAvailability: HelperAvailability;
  private lineStarts: number[] | undefined;
  private lineArray: string[] | undefined;
  private topLevel: { nodes: Node[]; functions: ProbeFunction[]; maps: MapDefinition[]; license: LicenseDeclaration | null; dataVariables: DataSectionVariable[] } | undefined;
  private callerTypes: Map<string, ProgramType[]> | undefined;
  private functionsByName: Map<string, ProbeFunction> | undefined;
  private readonly functionMemo: FunctionMemo;
  private contextHash: string | undefined;
  private rootNode: Node | undefined;

  constructor(text: string, maskedText: string, tree: Tree, macros: readonly MaskedMacro[], options: ProbeFileOptions) {
    this.uri = options.uri;
    this.text = text;
    this.maskedText = maskedText;
    this.tree = tree;
    this.macros = macros;
    this.targetKernel = options.targetKernel;
    this.helperAvailability = options.helperAvailability ?? HelperAvailability.snapshot;
    this.changed = options.changed ?? null;
    this.functionMemo = options.functionMemo ?? new FunctionMemo();
    // now, while the previous version's tree is alive: it tells which subtrees can be copied from it
    const previousRoot = options.previousVersion?.rootNode;
    if (previousRoot && this.changed) this.rootNode = syntaxRoot(tree, maskedText, { root: previousRoot, edit: this.changed });
  }

  /**
   * A hash of everything a function's facts may depend on besides the function itself: the text
   * outside function bodies (declarations, maps, structs, #defines, licence) and the target kernel.
   */
  get outsideBodiesHash(): string {
    const previous = this.contextHash === undefined ? topLevelLayout(this).previous : undefined;
    if (previous?.bodyEdit && previous.file.contextHash !== undefined && previous.file.kernelKey === this.kernelKey) this.contextHash = previous.file.contextHash;
    if (this.contextHash === undefined) {
      const hash = createHash('sha1');
      hash.update(this.kernelKey);
      let position = 0;
      for (const fn of this.functions) {
        hash.update(this.text.slice(position, fn.body.startIndex));
        hash.update('\u0000');
        position = fn.body.endIndex;
      }
      hash.update(this.text.slice(position));
      this.contextHash = hash.digest('base64');
    }
    return this.contextHash;
  }

  /** The target kernel and the helper facts checks read. */
  private get kernelKey(): string {
    return `${this.targetKernel.major}.${this.targetKernel.minor}.${this.targetKernel.patch} ${this.helperAvailability.key}`;
  }

  /**
   * A value computed from the file outside function bodies (#defines, struct layouts, globals,
   * maps), reused across edits until that part changes. The value must not hold tree nodes or
   * absolute positions (they belong to one version).
   */
  memoizeForContext<T>(key: string, compute: () => T): T {
    return this.functionMemo.get(`${key}\u0000${this.outsideBodiesHash}`, compute);
  }

  /** The functions the last edit touched (all of them after a full parse). */
  functionsTouchedByEdit(): ProbeFunction[] {
    const changed = this.changed;
    if (!changed) return this.functions;
    return this.functions.filter((fn) => fn.node.startIndex <= changed.newEnd && changed.start <= fn.node.endIndex);
  }

  /** The syntax tree, copied from the parser's tree as it is read. */
  get root(): Node {
    this.rootNode ??= syntaxRoot(this.tree, this.maskedText);
    return this.rootNode;
  }

  get lines(): string[] {
    this.lineArray ??= this.text.split(/\r?\n/);
    return this.lineArray;
  }

  /** The original text of a node (node.text would be the masked text). */
  textOf(node: Node): string {
    return this.text.slice(node.startIndex, node.endIndex);
  }

  rangeOf(node: Node): Range {
    return {
      start: { line: node.startPosition.row, character: node.startPosition.column },
      end: { line: node.endPosition.row, character: node.endPosition.column },
    };
  }

  offsetRange(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }

  positionAt(offset: number): Position {
    const starts = this.getLineStarts();
    const line = lineIndexAt(starts, offset);
    return { line, character: offset - starts[line] };
  }

  offsetAt(position: Position): number {
    const starts = this.getLineStarts();
    if (position.line >= starts.length) return this.text.length;
    return Math.min(starts[position.line] + position.character, position.line + 1 < starts.length ? starts[position.line + 1] : this.text.length);
  }

  /** The top-level nodes in text order (see topLevelNodes). */
  get topLevelDeclarations(): Node[] {
    return this.collectTopLevel().nodes;
  }

  get functions(): ProbeFunction[] {
    return this.collectTopLevel().functions;
  }

  get programs(): ProbeFunction[] {
    return this.functions.filter((fn) => fn.isProgram);
  }

  get maps(): MapDefinition[] {
    return this.collectTopLevel().maps;
  }

  /** The SEC("license") declaration, or null when the file has none. */
  get license(): LicenseDeclaration | null {
    return this.collectTopLevel().license;
  }

  /** Whether the licence lets programs call GPL-only helpers (a licence we cannot read counts as yes). */
  get licenseIsGplCompatible(): boolean {
    const license = this.license;
    return license != null && (license.value === null || GPL_COMPATIBLE.has(license.value));
  }

  /** Global variables placed in a named section (license, .maps, .rodata …). */
  get dataVariables(): DataSectionVariable[] {
    return this.collectTopLevel().dataVariables;
  }

  functionNamed(name: string): ProbeFunction | undefined {
    this.functionsByName ??= new Map(this.functions.map((fn) => [fn.name, fn]));
    return this.functionsByName.get(name);
  }

  mapNamed(name: string): MapDefinition | undefined {
    return this.maps.find((map) => map.name === name);
  }

  /** The function whose definition contains the offset. */
  functionAt(offset: number): ProbeFunction | undefined {
    return this.functions.find((fn) => fn.node.startIndex <= offset && offset <= fn.node.endIndex);
  }

  mapAt(offset: number): MapDefinition | undefined {
    return this.maps.find((map) => map.node.startIndex <= offset && offset <= map.node.endIndex);
  }

  /** The masked macro whose text contains the offset. */
  macroAt(offset: number): MaskedMacro | undefined {
    return this.macros.find((macro) => macro.start <= offset && offset <= macro.end);
  }

  /**
   * The program types of the code at an offset. Inside a function that parsed, its programTypes;
   * in half-typed code the parser could not make a function of, the section of the nearest
   * SEC("…") above, unless a closing brace in column 0 shows that function has ended.
   */
  programTypesAt(offset: number): ProgramType[] {
    const fn = this.functionAt(offset);
    if (fn) return fn.programTypes;
    let nearest: Extract<MaskedMacro, { kind: 'section' }> | undefined;
    for (const macro of this.macros) {
      if (macro.kind === 'section' && macro.end <= offset) nearest = macro;
    }
    if (!nearest || /\n\}/.test(this.text.slice(nearest.end, offset))) return [];
    const match = kernelFacts.section(nearest.value);
    return match ? [match.programType] : [];
  }

  /** Program types reaching a function: its own for a program, the types of its (transitive) callers otherwise. */
  programTypesOf(fn: ProbeFunction): ProgramType[] {
    if (fn.programType) return [fn.programType];
    return this.callerProgramTypes().get(fn.name) ?? [];
  }

  /**
   * Which program types reach each subprogram. Calls are found in the text (an identifier followed
   * by "(") rather than the tree, so this stays cheap on large files; comments may over-approximate.
   */
  private callerProgramTypes(): Map<string, ProgramType[]> {
    if (this.callerTypes) return this.callerTypes;
    const subprograms = new Set(this.functions.filter((fn) => !fn.isProgram).map((fn) => fn.name));
    const calleesOf = new Map<string, string[]>();
    const callees = (fn: ProbeFunction): string[] => {
      let names = calleesOf.get(fn.name);
      if (!names) {
        // every name before a `(` in the body, kept while the function's text is: then those of subprograms
        const called = segmentMemo(this, fn.node, 'called-names', () => [...this.text.slice(fn.body.startIndex, fn.body.endIndex).matchAll(CALLED_NAME)].map((match) => match[1]));
        names = called.filter((name) => subprograms.has(name));
        calleesOf.set(fn.name, names);
      }
      return names;
    };
    const result = new Map<string, Set<ProgramType>>();
    if (subprograms.size > 0) {
      for (const program of this.programs) {
        if (!program.programType) continue;
        const stack = [program];
        const seen = new Set<string>([program.name]);
        while (stack.length > 0) {
          const current = stack.pop() as ProbeFunction;
          for (const name of callees(current)) {
            const callee = this.functionNamed(name);
            if (!callee || seen.has(name)) continue;
            seen.add(name);
            let types = result.get(name);
            if (!types) result.set(name, (types = new Set()));
            types.add(program.programType);
            stack.push(callee);
          }
        }
      }
    }
    this.callerTypes = new Map([...result].map(([name, types]) => [name, [...types]]));
    return this.callerTypes;
  }

  private getLineStarts(): number[] {
    this.lineStarts ??= lineStartsOf(this.text);
    return this.lineStarts;
  }

  private collectTopLevel() {
    if (this.topLevel) return this.topLevel;
    const functions: ProbeFunction[] = [];
    const maps: MapDefinition[] = [];
    const dataVariables: DataSectionVariable[] = [];
    let license: LicenseDeclaration | null = null;
    const sections = this.macros.filter((m): m is Extract<MaskedMacro, { kind: 'section' }> => m.kind === 'section');
    let sectionIndex = 0;
    let previousEnd = 0;

    const nodes = topLevelNodes(this.root);
    // comments are left out: one after SEC("…") on its line (`SEC("xdp") /* ingress */`) must not take the section
    for (const node of nodes) {
      // the SEC(…) belonging to this node lies between the previous top-level node and its end
      while (sectionIndex < sections.length && sections[sectionIndex].end <= previousEnd) sectionIndex++;
      const limit = node.type === 'function_definition' ? (node.childForFieldName('body')?.startIndex ?? node.endIndex) : node.endIndex;
      let section: (typeof sections)[number] | null = null;
      while (sectionIndex < sections.length && sections[sectionIndex].start < limit) section = sections[sectionIndex++];
      const headerStart = previousEnd;
      previousEnd = node.endIndex;

      if (node.type === 'function_definition') {
        const fn = this.describeFunction(node, section, headerStart);
        if (fn) functions.push(fn);
      } else if (node.type === 'declaration' && section) {
        const name = declaredName(node);
        if (section.value === 'license') {
          const literals = node.descendantsOfType('string_literal').filter((n): n is Node => n != null);
          const value = literals.length > 0 ? literals.map((literal) => this.textOf(literal).slice(1, -1)).join('') : null;
          license = {
            value,
            range: this.rangeOf(node),
            valueRange: literals.length === 1 ? this.rangeOf(literals[0]) : this.rangeOf(node),
          };
        }
        if (section.value === '.maps' || section.value === 'maps') {
          const map = this.describeMap(node, section.value === 'maps');
          if (map) maps.push(map);
        }
        if (name) {
          dataVariables.push({ name, section: section.value, sectionRange: this.offsetRange(section.valueStart, section.valueEnd), node });
        }
      }
    }
    this.topLevel = { nodes, functions, maps, license, dataVariables };
    return this.topLevel;
  }

  /** `headerStart`: where the previous top-level declaration ended (attributes may sit in between). */
  private describeFunction(node: Node, section: Extract<MaskedMacro, { kind: 'section' }> | null, headerStart: number): ProbeFunction | null {
    const body = node.childForFieldName('body');
    const declarator = functionDeclarator(node.childForFieldName('declarator'));
    const nameNode = declarator?.childForFieldName('declarator');
    if (!body || !declarator || !nameNode || nameNode.type !== 'identifier') return null;
    return new ParsedFunction(this, node, body, declarator, nameNode, section, headerStart);
  }

  /** Helper calls among a function's calls; a local definition named like a helper shadows it. */
  helperCallsAmong(calls: readonly CallSite[]): HelperCall[] {
    return calls.flatMap((call) => {
      if (this.functionNamed(call.name)) return [];
      const direct = kernelFacts.helper(call.name);
      if (direct) return [{ ...call, helper: direct }];
      const expanded = Object.hasOwn(HELPER_MACROS, call.name) ? kernelFacts.helper(HELPER_MACROS[call.name]) : undefined;
      return expanded ? [{ ...call, helper: expanded, viaMacro: call.name }] : [];
    });
  }

  private wrapperAndAttributeMacros: MaskedMacro[] | undefined;
  private mapFieldMacros: Extract<MaskedMacro, { kind: 'map-field' }>[] | undefined;

  /** The wrapper and attribute macros starting in [start, end). */
  declarationMacrosIn(start: number, end: number): MaskedMacro[] {
    this.wrapperAndAttributeMacros ??= this.macros.filter((m) => m.kind === 'wrapper' || m.kind === 'attribute');
    return macrosStartingIn(this.wrapperAndAttributeMacros, start, end);
  }

  private describeMap(node: Node, legacy: boolean): MapDefinition | null {
    const name = declaredName(node);
    const nameNode = declaredNameNode(node);
    if (!name || !nameNode) return null;
    const fields: Record<string, MapField> = {};
    if (!legacy) {
      this.mapFieldMacros ??= this.macros.filter((m): m is Extract<MaskedMacro, { kind: 'map-field' }> => m.kind === 'map-field');
      for (const macro of macrosStartingIn(this.mapFieldMacros, node.startIndex, node.endIndex)) {
        if (macro.end <= node.endIndex) fields[macro.field] ??= { value: macro.value, range: this.offsetRange(macro.valueStart, macro.valueEnd) };
      }
    } else {
      for (const pair of node.descendantsOfType('initializer_pair')) {
        const designator = pair?.namedChild(0);
        const value = pair?.childForFieldName('value');
        if (designator?.type === 'field_designator' && value) {
          fields[designator.text.replace(/^\./, '')] ??= { value: this.textOf(value), range: this.rangeOf(value) };
        }
      }
    }
    const typeValue = fields.type?.value ?? null;
    return {
      name,
      node,
      nameRange: this.rangeOf(nameNode),
      type: typeValue && /^BPF_MAP_TYPE_\w+$/.test(typeValue) ? typeValue : null,
      keyType: fields.key?.value ?? null,
      valueType: fields.value?.value ?? null,
      maxEntries: fields.max_entries?.value ?? null,
      fields,
      legacy,
    };
  }
}

/** A function definition; everything beyond name, section and nodes is worked out on first use. */
class ParsedFunction implements ProbeFunction {
  readonly name: string;
  readonly section: string | null;
  readonly sectionMatch: SectionMatch | null;
  readonly programType: ProgramType | null;
  readonly isProgram: boolean;
  private memo = new Map<string, unknown>();

  constructor(
    private readonly file: ProbeFile,
    readonly node: Node,
    readonly body: Node,
    private readonly declarator: Node,
    private readonly nameNode: Node,
    private readonly sectionMacro: Extract<MaskedMacro, { kind: 'section' }> | null,
    private readonly headerStart: number,
  ) {
    this.name = nameNode.text;
    this.section = sectionMacro?.value ?? null;
    this.sectionMatch = sectionMacro ? kernelFacts.section(sectionMacro.value) : null;
    this.programType = this.sectionMatch?.programType ?? null;
    this.isProgram = sectionMacro != null;
  }

  private once<T>(key: string, compute: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, compute());
    return this.memo.get(key) as T;
  }

  private get wrapperMacro(): Extract<MaskedMacro, { kind: 'wrapper' }> | undefined {
    return this.once('wrapperMacro', () =>
      this.file.declarationMacrosIn(this.node.startIndex, this.body.startIndex).find((m): m is Extract<MaskedMacro, { kind: 'wrapper' }> => m.kind === 'wrapper'),
    );
  }

  /** Attribute macros and the header text between the previous declaration and the name. */
  private get header(): { attributes: Set<string>; specifiers: string[]; text: string } {
    return this.once('header', () => ({
      attributes: new Set(this.file.declarationMacrosIn(this.headerStart, this.nameNode.startIndex).flatMap((m) => (m.kind === 'attribute' ? [m.name] : []))),
      specifiers: this.node.children.filter((c): c is Node => c != null && (c.type === 'storage_class_specifier' || c.type === 'attribute_specifier')).map((c) => c.text),
      text: this.file.text.slice(this.headerStart, this.nameNode.startIndex),
    }));
  }

  get nameRange(): Range {
    const wrapper = this.wrapperMacro;
    return wrapper ? this.file.offsetRange(wrapper.nameStart, wrapper.nameStart + wrapper.name.length) : this.file.rangeOf(this.nameNode);
  }

  get sectionRange(): Range | null {
    return this.sectionMacro ? this.file.offsetRange(this.sectionMacro.valueStart, this.sectionMacro.valueEnd) : null;
  }

  get isStatic(): boolean {
    return this.header.specifiers.includes('static');
  }

  get isInline(): boolean {
    const { specifiers, text, attributes } = this.header;
    return specifiers.includes('inline') || /\b(__inline|inline)\b|always_inline/.test(text) || attributes.has('__always_inline') || attributes.has('__inline');
  }

  get isAlwaysInline(): boolean {
    return this.header.attributes.has('__always_inline') || /always_inline/.test(this.header.text);
  }

  get isNoinline(): boolean {
    return this.header.attributes.has('__noinline') || /noinline/.test(this.header.text);
  }

  get isWeak(): boolean {
    return this.header.attributes.has('__weak') || /\bweak\b/.test(this.header.text);
  }

  get wrapper(): string | null {
    return this.wrapperMacro?.macro ?? null;
  }

  get returnType(): string {
    return this.once('returnType', () => {
      const typeNode = this.node.childForFieldName('type');
      const stars = pointerDepth(this.node.childForFieldName('declarator'));
      return (typeNode ? this.file.textOf(typeNode) : 'int') + (stars ? ' ' + '*'.repeat(stars) : '');
    });
  }

  get params(): FunctionParam[] {
    return this.once('params', () => parameters(this.declarator, this.file));
  }

  get calls(): CallSite[] {
    return this.once('calls', () => collectCalls(this.body));
  }

  get helperCalls(): HelperCall[] {
    return this.once('helperCalls', () => this.file.helperCallsAmong(this.calls));
  }

  get programTypes(): ProgramType[] {
    return this.file.programTypesOf(this);
  }
}

/** The macros of a list in text order that start in [start, end), by binary search. */
function macrosStartingIn<T extends MaskedMacro>(macros: readonly T[], start: number, end: number): T[] {
  let low = 0;
  let high = macros.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (macros[mid].start < start) low = mid + 1;
    else high = mid;
  }
  const found: T[] = [];
  for (let i = low; i < macros.length && macros[i].start < end; i++) found.push(macros[i]);
  return found;
}

function functionDeclarator(declarator: Node | null): Node | null {
  let current = declarator;
  while (current && current.type !== 'function_declarator') current = current.childForFieldName('declarator');
  return current;
}

function pointerDepth(declarator: Node | null): number {
  let depth = 0;
  for (let current = declarator; current && current.type !== 'function_declarator'; current = current.childForFieldName('declarator')) {
    if (current.type === 'pointer_declarator') depth++;
  }
  return depth;
}

function declaredNameNode(declaration: Node): Node | null {
  let current = declaration.childForFieldName('declarator');
  while (current && current.type !== 'identifier') current = current.childForFieldName('declarator');
  return current;
}

function declaredName(declaration: Node): string | null {
  return declaredNameNode(declaration)?.text ?? null;
}

function parameters(declarator: Node, file: ProbeFile): FunctionParam[] {
  const list = declarator.childForFieldName('parameters');
  if (!list) return [];
  return list.namedChildren
    .filter((p): p is Node => p != null && p.type === 'parameter_declaration')
    .map((param) => {
      const typeNode = param.childForFieldName('type');
      let nameNode: Node | null = param.childForFieldName('declarator');
      let stars = 0;
      while (nameNode && nameNode.type !== 'identifier') {
        if (nameNode.type === 'pointer_declarator') stars++;
        nameNode = nameNode.childForFieldName('declarator');
      }
      const qualifiers = param.namedChildren.filter((c): c is Node => c != null && c.type === 'type_qualifier').map((c) => c.text);
      const base = [...qualifiers, typeNode ? file.textOf(typeNode) : ''].join(' ');
      return { name: nameNode?.text ?? null, type: stars ? `${base} ${'*'.repeat(stars)}` : base, node: param };
    })
    .filter((param) => param.type !== 'void' || param.name != null);
}

function collectCalls(body: Node): CallSite[] {
  const calls: CallSite[] = [];
  for (const node of body.descendantsOfType('call_expression')) {
    const callee = node?.childForFieldName('function');
    if (!node || !callee || callee.type !== 'identifier') continue;
    const args = node.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => a != null && a.type !== 'comment') ?? [];
    calls.push({ name: callee.text, node, nameNode: callee, args });
  }
  return calls;
}
