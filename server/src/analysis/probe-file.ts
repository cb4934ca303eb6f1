// ProbeFile: one parsed eBPF C file and the facts rules need (functions, SEC sections, program
// types, helper calls, maps, licence, target kernel), derived lazily from the tree-sitter tree.
import type { Node, Tree } from 'web-tree-sitter';
import type { Position, Range } from 'vscode-languageserver-types';
import type { MaskedMacro } from './bpf-macro-mask';
import { kernelFacts, type HelperInfo, type KernelFacts } from '../kernel/kernel-facts';
import type { KernelVersion } from '../kernel/kernel-version';
import type { SectionMatch } from '../kernel/sections';
import type { ProgramType } from '../kernel/program-types';

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
  params: FunctionParam[];
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
  value: string;
  /** The whole declaration. */
  range: Range;
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
  /** What the edit that produced this version changed; null for a first (full) parse. */
  changed?: EditedSpan | null;
}

/** The GPL-compatible licence strings the kernel accepts (include/linux/license.h). */
const GPL_COMPATIBLE = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);

const CONTAINER_TYPES = new Set(['translation_unit', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef', 'linkage_specification', 'declaration_list']);

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
  private lineStarts: number[] | undefined;
  private lineArray: string[] | undefined;
  private topLevel: { functions: ProbeFunction[]; maps: MapDefinition[]; license: LicenseDeclaration | null; dataVariables: DataSectionVariable[] } | undefined;
  private callerTypes: Map<string, ProgramType[]> | undefined;
  private functionsByName: Map<string, ProbeFunction> | undefined;

  constructor(text: string, maskedText: string, tree: Tree, macros: readonly MaskedMacro[], options: ProbeFileOptions) {
    this.uri = options.uri;
    this.text = text;
    this.maskedText = maskedText;
    this.tree = tree;
    this.macros = macros;
    this.targetKernel = options.targetKernel;
    this.changed = options.changed ?? null;
  }

  /** The functions the last edit touched (all of them after a full parse). */
  functionsTouchedByEdit(): ProbeFunction[] {
    const changed = this.changed;
    if (!changed) return this.functions;
    return this.functions.filter((fn) => fn.node.startIndex <= changed.newEnd && changed.start <= fn.node.endIndex);
  }

  get root(): Node {
    return this.tree.rootNode;
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
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low, character: offset - starts[low] };
  }

  offsetAt(position: Position): number {
    const starts = this.getLineStarts();
    if (position.line >= starts.length) return this.text.length;
    return Math.min(starts[position.line] + position.character, position.line + 1 < starts.length ? starts[position.line + 1] : this.text.length);
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

  /** Whether the licence lets programs call GPL-only helpers. */
  get licenseIsGplCompatible(): boolean {
    const license = this.license;
    return license != null && GPL_COMPATIBLE.has(license.value);
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
        names = [];
        const body = this.text.slice(fn.body.startIndex, fn.body.endIndex);
        for (const match of body.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) if (subprograms.has(match[1])) names.push(match[1]);
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
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
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

    const visit = (container: Node) => {
      for (let i = 0; i < container.namedChildCount; i++) {
        const node = container.namedChild(i);
        if (!node) continue;
        if (CONTAINER_TYPES.has(node.type)) {
          visit(node);
          continue;
        }
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
            const literal = node.descendantsOfType('string_literal')[0];
            if (literal) {
              const content = this.textOf(literal).slice(1, -1);
              license = { value: content, range: this.rangeOf(node), valueRange: this.rangeOf(literal) };
            }
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
    };
    visit(this.tree.rootNode);
    this.topLevel = { functions, maps, license, dataVariables };
    return this.topLevel;
  }

  /** `headerStart`: where the previous top-level declaration ended (attributes may sit in between). */
  private describeFunction(node: Node, section: Extract<MaskedMacro, { kind: 'section' }> | null, headerStart: number): ProbeFunction | null {
    const body = node.childForFieldName('body');
    const declarator = functionDeclarator(node.childForFieldName('declarator'));
    const nameNode = declarator?.childForFieldName('declarator');
    if (!body || !declarator || !nameNode || nameNode.type !== 'identifier') return null;
    const name = nameNode.text;
    const wrapper = this.declarationMacros().find(
      (m): m is Extract<MaskedMacro, { kind: 'wrapper' }> => m.kind === 'wrapper' && m.start >= node.startIndex && m.start < body.startIndex,
    );
    const attributes = new Set(
      this.declarationMacros().flatMap((m) => (m.kind === 'attribute' && m.start >= headerStart && m.start < nameNode.startIndex ? [m.name] : [])),
    );
    const specifiers = node.children.filter((c): c is Node => c != null && (c.type === 'storage_class_specifier' || c.type === 'attribute_specifier')).map((c) => c.text);
    const headerText = this.text.slice(headerStart, nameNode.startIndex);
    const sectionMatch = section ? kernelFacts.section(section.value) : null;
    const typeNode = node.childForFieldName('type');
    const pointerPrefix = pointerDepth(node.childForFieldName('declarator'));
    const isLocalFunction = (callee: string) => this.functionNamedLocally(callee);
    const programTypesOf = (target: ProbeFunction) => this.programTypesOf(target);
    let calls: CallSite[] | undefined;
    let helperCalls: HelperCall[] | undefined;
    const fn: ProbeFunction = {
      name,
      node,
      nameRange: wrapper ? this.offsetRange(wrapper.nameStart, wrapper.nameStart + wrapper.name.length) : this.rangeOf(nameNode),
      body,
      section: section?.value ?? null,
      sectionRange: section ? this.offsetRange(section.valueStart, section.valueEnd) : null,
      sectionMatch,
      programType: sectionMatch?.programType ?? null,
      isProgram: section != null,
      isStatic: specifiers.includes('static'),
      isInline: specifiers.includes('inline') || /\b(__always_inline|inline|__inline)\b/.test(headerText) || attributes.has('__always_inline'),
      isAlwaysInline: attributes.has('__always_inline') || /always_inline/.test(headerText),
      isNoinline: attributes.has('__noinline') || /noinline/.test(headerText),
      isWeak: attributes.has('__weak') || /\bweak\b/.test(headerText),
      wrapper: wrapper?.macro ?? null,
      returnType: (typeNode ? this.textOf(typeNode) : 'int') + (pointerPrefix ? ' ' + '*'.repeat(pointerPrefix) : ''),
      params: parameters(declarator, this),
      get calls() {
        calls ??= collectCalls(body);
        return calls;
      },
      get helperCalls() {
        helperCalls ??= fn.calls.flatMap((call) => {
          if (isLocalFunction(call.name)) return [];
          const direct = kernelFacts.helper(call.name);
          if (direct) return [{ ...call, helper: direct }];
          const expanded = Object.hasOwn(HELPER_MACROS, call.name) ? kernelFacts.helper(HELPER_MACROS[call.name]) : undefined;
          return expanded ? [{ ...call, helper: expanded, viaMacro: call.name }] : [];
        });
        return helperCalls;
      },
      get programTypes() {
        return programTypesOf(fn);
      },
    };
    return fn;
  }

  private wrapperAndAttributeMacros: MaskedMacro[] | undefined;

  /** The wrapper and attribute macros (few), searched per function instead of every macro. */
  private declarationMacros(): MaskedMacro[] {
    this.wrapperAndAttributeMacros ??= this.macros.filter((m) => m.kind === 'wrapper' || m.kind === 'attribute');
    return this.wrapperAndAttributeMacros;
  }

  /** A local definition named like a helper shadows the helper. */
  private functionNamedLocally(name: string): boolean {
    return this.functionNamed(name) != null;
  }

  private describeMap(node: Node, legacy: boolean): MapDefinition | null {
    const name = declaredName(node);
    const nameNode = declaredNameNode(node);
    if (!name || !nameNode) return null;
    const fields: Record<string, MapField> = {};
    if (!legacy) {
      for (const macro of this.macros) {
        if (macro.kind === 'map-field' && macro.start >= node.startIndex && macro.end <= node.endIndex) {
          fields[macro.field] ??= { value: macro.value, range: this.offsetRange(macro.valueStart, macro.valueEnd) };
        }
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
