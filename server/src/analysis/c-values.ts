// Compile-time facts about C values in a probe file: #define constants, integer constant expressions,
// type sizes and struct layouts, and the local variables a function declares. Talks to ProbeFile only.
import type { SyntaxNode as Node } from './syntax-node';
import type { ProbeFile, ProbeFunction } from './probe-file';
import { stripCasts } from './flow-walker';
import { declarationsOutsideFunctions, segmentMemo } from './top-level-segments';

/** Well-known constants from uapi headers that probes return or compare against. */
const KNOWN_CONSTANTS: Readonly<Record<string, number>> = {
  NULL: 0, false: 0, true: 1,
  XDP_ABORTED: 0, XDP_DROP: 1, XDP_PASS: 2, XDP_TX: 3, XDP_REDIRECT: 4, ETH_HLEN: 14, ETH_ALEN: 6, ETH_ZLEN: 60,
  TC_ACT_UNSPEC: -1, TC_ACT_OK: 0, TC_ACT_RECLASSIFY: 1, TC_ACT_SHOT: 2, TC_ACT_PIPE: 3, TC_ACT_STOLEN: 4,
  TC_ACT_QUEUED: 5, TC_ACT_REPEAT: 6, TC_ACT_REDIRECT: 7, TC_ACT_TRAP: 8,
  SK_DROP: 0, SK_PASS: 1, NF_DROP: 0, NF_ACCEPT: 1, BPF_OK: 0, BPF_DROP: 2, BPF_REDIRECT: 7,
  EPERM: 1, ENOENT: 2, EACCES: 13, EINVAL: 22,
};

/** Sizes (bytes) of scalar types and of uapi structs probes commonly place on the stack or in packets. */
const KNOWN_SIZES: Readonly<Record<string, number>> = {
  char: 1, 'signed char': 1, 'unsigned char': 1, bool: 1, _Bool: 1, u8: 1, s8: 1, __u8: 1, __s8: 1, uint8_t: 1, int8_t: 1,
  short: 2, 'unsigned short': 2, u16: 2, s16: 2, __u16: 2, __s16: 2, __be16: 2, __le16: 2, __sum16: 2, uint16_t: 2, int16_t: 2,
  int: 4, 'unsigned int': 4, unsigned: 4, u32: 4, s32: 4, __u32: 4, __s32: 4, __be32: 4, __le32: 4, __wsum: 4, uint32_t: 4, int32_t: 4,
  pid_t: 4, uid_t: 4, gid_t: 4, float: 4,
  long: 8, 'unsigned long': 8, 'long long': 8, 'unsigned long long': 8, u64: 8, s64: 8, __u64: 8, __s64: 8, __be64: 8,
  uint64_t: 8, int64_t: 8, size_t: 8, ssize_t: 8, loff_t: 8, double: 8, void_ptr: 8,
  'struct ethhdr': 14, 'struct iphdr': 20, 'struct ipv6hdr': 40, 'struct tcphdr': 20, 'struct udphdr': 8,
  'struct icmphdr': 8, 'struct icmp6hdr': 8, 'struct vlan_hdr': 4, 'struct arphdr': 8, 'struct gre_hdr': 4,
  'struct bpf_sock_tuple': 36,
};

export interface FieldLayout {
  name: string;
  offset: number;
  size: number;
}

export interface StructLayout {
  name: string;
  size: number;
  fields: FieldLayout[];
  /** Bytes the compiler inserts between or after fields (left uninitialised unless the struct is zeroed). */
  hasPadding: boolean;
}

export interface LocalVariable {
  name: string;
  /** Base type as written, without pointer stars or array brackets: "struct event", "u32". */
  baseType: string;
  pointerDepth: number;
  /** Array length expressions (outermost first) for `char buf[N][M]`. */
  arrayLengths: Node[];
  declaration: Node;
  nameNode: Node;
  /** The initialiser (`= …`), if any. */
  value: Node | null;
  isParameter: boolean;
}

interface FileValues {
  defines: Map<string, string>;
  structs: Map<string, StructLayout>;
  sizes: Map<string, number | null>;
}

const cache = new WeakMap<ProbeFile, FileValues>();

function normaliseType(text: string): string {
  return text
    .replace(/\b(const|volatile|static|register|__attribute__\s*\(\(.*?\)\))\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Text a #define or typedef needs (a superset of what the regexes below and in computeTypeSize match). */
const DEFINITION_TEXT = /#[ \t]*define|typedef/g;

/**
 * Whether everything fileValues reads lies outside function bodies: no #define, typedef or struct
 * definition inside one (nor a struct defined in a function's return type or parameters). Then the values
 * depend only on what outsideBodiesHash covers, and the struct definitions are among the declarations.
 */
function definitionsOnlyOutsideBodies(file: ProbeFile): boolean {
  const functions = file.functions;
  for (const match of file.text.matchAll(DEFINITION_TEXT)) {
    const at = match.index;
    let low = 0;
    let high = functions.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const body = functions[middle].body;
      if (at < body.startIndex) high = middle - 1;
      else if (at >= body.endIndex) low = middle + 1;
      else return false;
    }
  }
  return functions.every((fn) => !segmentMemo(file, fn.node, 'defines-struct', () =>
    fn.node.descendantsOfType('struct_specifier').some((specifier) => specifier?.childForFieldName('body'))));
}

/** Whether no function declares struct or union fields: then every field declaration is among the declarations outside functions. */
function fieldsOnlyOutsideFunctions(file: ProbeFile): boolean {
  let only = fieldsOutsideFunctions.get(file);
  if (only === undefined) {
    only = file.functions.every((fn) => !segmentMemo(file, fn.node, 'declares-fields', () => fn.node.descendantsOfType('field_declaration').length > 0));
    fieldsOutsideFunctions.set(file, only);
  }
  return only;
}

const fieldsOutsideFunctions = new WeakMap<ProbeFile, boolean>();

const bracedDeclarations = new WeakMap<ProbeFile, Node[]>();

/**
 * The declarations outside functions that have a `{`: only they can define a struct or declare fields (searching
 * the text first costs a tenth of asking the tree of every declaration).
 */
function declarationsWithBraces(file: ProbeFile): Node[] {
  let declarations = bracedDeclarations.get(file);
  if (!declarations) {
    declarations = declarationsOutsideFunctions(file).filter((node) => file.text.slice(node.startIndex, node.endIndex).includes('{'));
    bracedDeclarations.set(file, declarations);
  }
  return declarations;
}

/** A struct field's declarator as written, and where it is: which field declaration of its root, which declarator of that. */
interface FieldRecord {
  name: string;
  /** null when the field declaration has no type. */
  baseType: string | null;
  pointerDepth: number;
  /** The first array dimension as written. */
  firstLength: string | null;
  field: number;
  declarator: number;
}

/** The nodes holding every field declaration of the file, in text order: the declarations alone when no function declares fields. */
function fieldRoots(file: ProbeFile): Node[] {
  return fieldsOnlyOutsideFunctions(file) ? declarationsWithBraces(file) : [file.root];
}

const fieldDeclarationsByRoot = new WeakMap<Node, (Node | null)[]>();

function fieldDeclarationsUnder(root: Node): (Node | null)[] {
  let declarations = fieldDeclarationsByRoot.get(root);
  if (!declarations) fieldDeclarationsByRoot.set(root, (declarations = root.descendantsOfType('field_declaration')));
  return declarations;
}

/** The field declarators under one root, from its text alone (no offsets). */
function fieldRecordsIn(file: ProbeFile, root: Node): FieldRecord[] {
  const records: FieldRecord[] = [];
  fieldDeclarationsUnder(root).forEach((declaration, field) => {
    if (!declaration) return;
    const typeNode = declaration.childForFieldName('type');
    const baseType = typeNode ? normaliseType(file.textOf(typeNode)) : null;
    declaration.childrenForFieldName('declarator').forEach((declarator, index) => {
      const shape = declarator ? declaratorShape(declarator) : null;
      if (!shape?.name) return;
      const firstLength = shape.arrayLengths.length > 0 ? file.textOf(shape.arrayLengths[0]) : null;
      records.push({ name: shape.name.text, baseType, pointerDepth: shape.pointerDepth, firstLength, field, declarator: index });
    });
  });
  return records;
}

/** The array dimensions of a field record's declarator (under the `root`th of fieldRoots), as nodes of this version. */
function fieldArrayLengths(file: ProbeFile, root: number, record: FieldRecord): Node[] {
  const declaration = fieldDeclarationsUnder(fieldRoots(file)[root])[record.field];
  const declarator = declaration?.childrenForFieldName('declarator')[record.declarator];
  return declarator ? declaratorShape(declarator).arrayLengths : [];
}

/**
 * A table built from the file's field declarators in text order (it must hold no tree nodes or offsets). With no
 * field declared in a function, it is reused across edits while the text outside function bodies is unchanged, and
 * each declaration's declarators are read once while its text is (a #define edit reads none again).
 */
function fieldTable<T>(file: ProbeFile, key: string, build: (recordsByRoot: FieldRecord[][]) => T): T {
  let tables = fieldTables.get(file);
  if (!tables) fieldTables.set(file, (tables = new Map()));
  if (!tables.has(key)) tables.set(key, buildFieldTable(file, key, build));
  return tables.get(key) as T;
}

const fieldTables = new WeakMap<ProbeFile, Map<string, unknown>>();

function buildFieldTable<T>(file: ProbeFile, key: string, build: (recordsByRoot: FieldRecord[][]) => T): T {
  const records = (kept: boolean) => fieldRoots(file).map((root) => (kept ? segmentMemo(file, root, 'field-records', () => fieldRecordsIn(file, root)) : fieldRecordsIn(file, root)));
  if (!fieldsOnlyOutsideFunctions(file)) return build(records(false));
  return file.memoizeForContext(key, () => build(records(true)));
}

/**
 * #defines, struct layouts and type sizes of the file. They are reused across edits while the text
 * outside function bodies stays the same (the tree walk for structs costs ~3 ms on 5,000 lines).
 */
function fileValues(file: ProbeFile): FileValues {
  let values = cache.get(file);
  if (values) return values;
  values = definitionsOnlyOutsideBodies(file) ? file.memoizeForContext('c-values', () => computeFileValues(file, declarationsWithBraces(file))) : computeFileValues(file, [file.root]);
  cache.set(file, values);
  return values;
}

/** `roots`: the nodes holding every struct definition of the file, in text order. */
function computeFileValues(file: ProbeFile, roots: Node[]): FileValues {
  const defines = new Map<string, string>();
  for (const match of file.text.matchAll(/^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+([^\n]*?)[ \t]*(?:\/\/.*|\/\*.*\*\/)?$/gm)) {
    defines.set(match[1], match[2]);
  }
  const values: FileValues = { defines, structs: new Map(), sizes: new Map() };
  cache.set(file, values);
  for (const specifier of roots.flatMap((root) => root.descendantsOfType('struct_specifier'))) {
    if (!specifier) continue;
    const name = specifier.childForFieldName('name')?.text;
    const body = specifier.childForFieldName('body');
    if (!name || !body || values.structs.has(`struct ${name}`)) continue;
    const layout = layoutStruct(file, `struct ${name}`, body);
    if (layout) values.structs.set(layout.name, layout);
  }
  return values;
}

function layoutStruct(file: ProbeFile, name: string, body: Node): StructLayout | null {
  const fields: FieldLayout[] = [];
  let offset = 0;
  let alignment = 1;
  let padding = false;
  for (const field of body.namedChildren) {
    if (!field || field.type !== 'field_declaration') continue;
    const typeNode = field.childForFieldName('type');
    if (!typeNode) return null;
    const baseType = normaliseType(file.textOf(typeNode));
    for (const declarator of field.childrenForFieldName('declarator')) {
      if (!declarator) continue;
      const shape = declaratorShape(declarator);
      const elementSize = shape.pointerDepth > 0 ? 8 : typeSize(file, baseType);
      if (elementSize == null) return null;
      let count = 1;
      for (const length of shape.arrayLengths) {
        const value = evaluateConstant(file, length);
        if (value == null) return null;
        count *= value;
      }
      const align = shape.pointerDepth > 0 ? 8 : typeAlignment(file, baseType);
      if (align == null) return null;
      if (offset % align !== 0) {
        padding = true;
        offset += align - (offset % align);
      }
      fields.push({ name: shape.name?.text ?? '', offset, size: elementSize * count });
      offset += elementSize * count;
      alignment = Math.max(alignment, align);
    }
  }
  if (offset % alignment !== 0) {
    padding = true;
    offset += alignment - (offset % alignment);
  }
  return { name, size: offset, fields, hasPadding: padding };
}

function typeAlignment(file: ProbeFile, type: string): number | null {
  const layout = fileValues(file).structs.get(type);
  if (layout) return Math.max(1, ...layout.fields.map((f) => Math.min(8, scalarAlignment(file, f.size))));
  const size = typeSize(file, type);
  return size == null ? null : scalarAlignment(file, size);
}

function scalarAlignment(_file: ProbeFile, size: number): number {
  return size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
}

/** Size in bytes of a type written in the file ("u32", "struct event", "char"); null when unknown. */
export function typeSize(file: ProbeFile, type: string): number | null {
  const sizes = fileValues(file).sizes;
  const known = sizes.get(type);
  if (known !== undefined) return known;
  sizes.set(type, null);
  const size = computeTypeSize(file, type);
  sizes.set(type, size);
  return size;
}

function computeTypeSize(file: ProbeFile, type: string): number | null {
  const normal = normaliseType(type);
  if (normal.endsWith('*')) return 8;
  if (Object.hasOwn(KNOWN_SIZES, normal)) return KNOWN_SIZES[normal];
  const layout = fileValues(file).structs.get(normal);
  if (layout) return layout.size;
  const typedef = new RegExp(`typedef\\s+([\\w\\s]+?)\\s+${normal.replace(/\W/g, '')}\\s*;`).exec(file.text);
  if (typedef && normaliseType(typedef[1]) !== normal) return typeSize(file, typedef[1]);
  return null;
}

export function structLayout(file: ProbeFile, type: string): StructLayout | undefined {
  return fileValues(file).structs.get(normaliseType(type));
}

/** Value of an integer constant expression (literals, #defines, sizeof, known uapi names); null otherwise. */
export function evaluateConstant(file: ProbeFile, node: Node, locals?: Map<string, LocalVariable>): number | null {
  const expr = stripCasts(node);
  switch (expr.type) {
    case 'number_literal': {
      const text = expr.text.replace(/[uUlL]+$/, '');
      const value = text.startsWith('0x') || text.startsWith('0X') ? parseInt(text, 16) : /^0[0-7]+$/.test(text) ? parseInt(text, 8) : Number(text);
      return Number.isFinite(value) ? value : null;
    }
    case 'char_literal':
      return expr.text.length === 3 ? expr.text.charCodeAt(1) : expr.text === "'\\0'" ? 0 : null;
    case 'null':
    case 'false':
      return 0;
    case 'true':
      return 1;
    case 'identifier':
      return evaluateName(file, expr.text, 0);
    case 'unary_expression': {
      const argument = expr.childForFieldName('argument');
      const value = argument ? evaluateConstant(file, argument, locals) : null;
      if (value == null) return null;
      const op = expr.childForFieldName('operator')?.text;
      return op === '-' ? -value : op === '~' ? ~value : op === '!' ? Number(!value) : op === '+' ? value : null;
    }
    case 'binary_expression': {
      const left = expr.childForFieldName('left');
      const right = expr.childForFieldName('right');
      const a = left ? evaluateConstant(file, left, locals) : null;
      const b = right ? evaluateConstant(file, right, locals) : null;
      if (a == null || b == null) return null;
      return applyOperator(expr.childForFieldName('operator')?.text ?? '', a, b);
    }
    case 'sizeof_expression':
      return sizeofValue(file, expr, locals);
    default:
      return null;
  }
}

function applyOperator(op: string, a: number, b: number): number | null {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return b === 0 ? null : Math.trunc(a / b);
    case '%': return b === 0 ? null : a % b;
    case '<<': return a * 2 ** b;
    case '>>': return Math.floor(a / 2 ** b);
    case '&': return Number(BigInt(a) & BigInt(b));
    case '|': return Number(BigInt(a) | BigInt(b));
    default: return null;
  }
}

function evaluateName(file: ProbeFile, name: string, depth: number): number | null {
  if (Object.hasOwn(KNOWN_CONSTANTS, name)) return KNOWN_CONSTANTS[name];
  const text = fileValues(file).defines.get(name);
  if (text == null || depth > 8) return null;
  return evaluateText(file, text, depth + 1);
}

/** Value of a constant expression written as text (a map's max_entries, a #define body); null when not constant. */
export function evaluateConstantText(file: ProbeFile, text: string): number | null {
  return evaluateText(file, text, 0);
}

/** Evaluates a #define body with + - * / << >> & | and parentheses. */
function evaluateText(file: ProbeFile, text: string, depth: number): number | null {
  const tokens = text.match(/0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|<<|>>|[-+*/%&|()~]/g);
  if (!tokens || tokens.join('').length !== text.replace(/\s+|[uUlL]+(?=\W|$)/g, '').length) return null;
  let index = 0;
  const primary = (): number | null => {
    const token = tokens[index++];
    if (token === undefined) return null;
    if (token === '(') {
      const value = expression(0);
      index++;
      return value;
    }
    if (token === '-') {
      const value = primary();
      return value == null ? null : -value;
    }
    if (token === '~') {
      const value = primary();
      return value == null ? null : ~value;
    }
    if (/^\d|^0[xX]/.test(token)) return Number(token);
    return evaluateName(file, token, depth);
  };
  const precedence: Record<string, number> = { '|': 1, '&': 2, '<<': 3, '>>': 3, '+': 4, '-': 4, '*': 5, '/': 5, '%': 5 };
  const expression = (minimum: number): number | null => {
    let left = primary();
    while (left != null && index < tokens.length && (precedence[tokens[index]] ?? 0) > minimum) {
      const op = tokens[index++];
      const right = expression(precedence[op]);
      if (right == null) return null;
      left = applyOperator(op, left, right);
    }
    return left;
  };
  const value = expression(0);
  return index === tokens.length ? value : null;
}

function sizeofValue(file: ProbeFile, expr: Node, locals?: Map<string, LocalVariable>): number | null {
  const typeNode = expr.childForFieldName('type');
  if (typeNode) {
    const text = file.textOf(typeNode);
    return typeSize(file, text.includes('*') ? 'void *' : text);
  }
  const value = expr.childForFieldName('value');
  if (!value || !locals) return null;
  return expressionSize(file, stripCasts(value), locals);
}

/** Size of the object an expression names (`buf`, `e`, `*e`, `e->comm`, `e.args[0]`), when it can be known. */
export function expressionSize(file: ProbeFile, expr: Node, locals: Map<string, LocalVariable>): number | null {
  if (expr.type === 'identifier') {
    const local = locals.get(expr.text);
    if (!local) return null;
    return variableSize(file, local);
  }
  if (expr.type === 'pointer_expression' && expr.childForFieldName('operator')?.text === '*') {
    const argument = expr.childForFieldName('argument');
    const local = argument?.type === 'identifier' ? locals.get(argument.text) : undefined;
    return local && local.pointerDepth === 1 ? typeSize(file, local.baseType) : null;
  }
  return null;
}

/** Bytes a local variable occupies on the stack (arrays times their lengths); null when unknown. */
export function variableSize(file: ProbeFile, local: LocalVariable): number | null {
  let size = local.pointerDepth > 0 ? 8 : typeSize(file, local.baseType);
  if (size == null) return null;
  for (const length of local.arrayLengths) {
    const count = evaluateConstant(file, length);
    if (count == null) return null;
    size *= count;
  }
  return size;
}

interface DeclaratorShape {
  name: Node | null;
  pointerDepth: number;
  arrayLengths: Node[];
}

export function declaratorShape(declarator: Node): DeclaratorShape {
  let pointerDepth = 0;
  const arrayLengths: Node[] = [];
  let current: Node | null = declarator;
  while (current && current.type !== 'identifier' && current.type !== 'field_identifier') {
    if (current.type === 'pointer_declarator') pointerDepth++;
    if (current.type === 'array_declarator') {
      const size = current.childForFieldName('size');
      if (size) arrayLengths.unshift(size);
    }
    if (current.type === 'function_declarator') return { name: null, pointerDepth, arrayLengths };
    current = current.childForFieldName('declarator');
  }
  return { name: current, pointerDepth, arrayLengths };
}

/** Length expression, as written, of an array field declared in any struct of the file (`slots` → `MAX_SLOTS`). */
export function arrayFieldLength(file: ProbeFile, fieldName: string): string | undefined {
  return fieldTable(file, 'array-field-lengths', (recordsByRoot) => {
    const lengths = new Map<string, string>();
    for (const records of recordsByRoot) {
      for (const record of records) {
        if (record.pointerDepth === 0 && record.firstLength !== null && !lengths.has(record.name)) lengths.set(record.name, record.firstLength);
      }
    }
    return lengths;
  }).get(fieldName);
}

const globalArrayCache = new WeakMap<ProbeFile, Map<string, { length: Node; baseType: string }>>();

/** Top-level (global, .bss/.data/.rodata) arrays by name, with their first dimension and element type. */
export function globalArray(file: ProbeFile, name: string): { length: Node; baseType: string } | undefined {
  let arrays = globalArrayCache.get(file);
  if (!arrays) {
    arrays = new Map();
    for (const declaration of file.root.namedChildren) {
      if (declaration?.type !== 'declaration') continue;
      const typeNode = declaration.childForFieldName('type');
      for (const declarator of declaration.childrenForFieldName('declarator')) {
        if (!declarator || !typeNode) continue;
        const inner = declarator.type === 'init_declarator' ? declarator.childForFieldName('declarator') : declarator;
        const shape = inner ? declaratorShape(inner) : null;
        if (shape?.name && shape.pointerDepth === 0 && shape.arrayLengths.length > 0) {
          arrays.set(shape.name.text, { length: shape.arrayLengths[0], baseType: normaliseType(file.textOf(typeNode)) });
        }
      }
    }
    globalArrayCache.set(file, arrays);
  }
  return arrays.get(name);
}

/** A struct field as declared in the file: its type as written and its bytes (null when unknown). */
export interface FieldDeclaration {
  baseType: string;
  pointerDepth: number;
  size: number | null;
}

const fieldCache = new WeakMap<ProbeFile, Map<string, FieldDeclaration | undefined>>();

/** A struct field declared in any struct of the file, by field name (first declaration with a type wins). */
export function fieldDeclaration(file: ProbeFile, fieldName: string): FieldDeclaration | undefined {
  let fields = fieldCache.get(file);
  if (!fields) fieldCache.set(file, (fields = new Map()));
  if (fields.has(fieldName)) return fields.get(fieldName);
  const found = fieldTable(file, 'field-declarations', (recordsByRoot) => {
    const first = new Map<string, { record: FieldRecord; root: number }>();
    recordsByRoot.forEach((records, root) => {
      for (const record of records) if (record.baseType !== null && !first.has(record.name)) first.set(record.name, { record, root });
    });
    return first;
  }).get(fieldName);
  // the size reads #defines, typedefs and struct layouts: worked out for this version, for the fields asked for
  let declaration: FieldDeclaration | undefined;
  const record = found?.record;
  if (found && record?.baseType != null) {
    let size = record.pointerDepth > 0 ? 8 : typeSize(file, record.baseType);
    for (const length of fieldArrayLengths(file, found.root, record)) {
      const count = evaluateConstant(file, length);
      size = size == null || count == null ? null : size * count;
    }
    declaration = { baseType: record.baseType, pointerDepth: record.pointerDepth, size };
  }
  fields.set(fieldName, declaration);
  return declaration;
}

/** Bytes of a struct field declared in the file, by field name (first declaration wins); null when unknown. */
export function fieldSize(file: ProbeFile, fieldName: string): number | null {
  return fieldDeclaration(file, fieldName)?.size ?? null;
}

const localsCache = new WeakMap<ProbeFunction, Map<string, LocalVariable>>();

/** Parameters and local variables of a function by name (the first declaration of a name wins). */
export function localVariables(file: ProbeFile, fn: ProbeFunction): Map<string, LocalVariable> {
  const cached = localsCache.get(fn);
  if (cached) return cached;
  const locals = new Map<string, LocalVariable>();
  for (const param of fn.params) {
    if (!param.name) continue;
    const typeNode = param.node.childForFieldName('type');
    const declarator = param.node.childForFieldName('declarator');
    const shape = declarator ? declaratorShape(declarator) : { name: null, pointerDepth: 0, arrayLengths: [] };
    const stars = (/\*+\s*$/.exec(param.type)?.[0].replace(/\s/g, '').length ?? 0) || shape.pointerDepth;
    locals.set(param.name, {
      name: param.name,
      baseType: normaliseType(typeNode ? file.textOf(typeNode) : param.type.replace(/\*/g, '')),
      pointerDepth: stars,
      arrayLengths: shape.arrayLengths,
      declaration: param.node,
      nameNode: shape.name ?? param.node,
      value: null,
      isParameter: true,
    });
  }
  for (const declaration of fn.body.descendantsOfType('declaration')) {
    if (!declaration) continue;
    const typeNode = declaration.childForFieldName('type');
    if (!typeNode) continue;
    const baseType = normaliseType(file.textOf(typeNode));
    for (const declarator of declaration.childrenForFieldName('declarator')) {
      if (!declarator) continue;
      const inner = declarator.type === 'init_declarator' ? declarator.childForFieldName('declarator') : declarator;
      if (!inner) continue;
      const shape = declaratorShape(inner);
      if (!shape.name || locals.has(shape.name.text)) continue;
      locals.set(shape.name.text, {
        name: shape.name.text,
        baseType,
        pointerDepth: shape.pointerDepth,
        arrayLengths: shape.arrayLengths,
        declaration,
        nameNode: shape.name,
        value: declarator.type === 'init_declarator' ? declarator.childForFieldName('value') : null,
        isParameter: false,
      });
    }
  }
  localsCache.set(fn, locals);
  return locals;
}

/** A `const` global's declaration (also matches in function bodies: the names it finds are over-approximated). */
export const READ_ONLY_GLOBAL = /^\s*(?:static\s+)?(?:volatile\s+)?const\b[^;=(]*?\b(\w+)\s*(?:\[[^\]]*\]\s*)?(?:=|;)/gm;
const readOnlyGlobalsCache = new WeakMap<ProbeFile, Set<string>>();

/** A `const` or `const volatile` global (.rodata): the verifier sees its value as a known constant once the map is frozen. */
export function isReadOnlyGlobal(file: ProbeFile, name: string): boolean {
  let names = readOnlyGlobalsCache.get(file);
  if (!names) {
    // one scan of the file, not one per question: rules ask about every identifier they meet
    names = new Set([...file.text.matchAll(READ_ONLY_GLOBAL)].map((match) => match[1]));
    readOnlyGlobalsCache.set(file, names);
  }
  return names.has(name);
}

const UNSIGNED_TYPE = /^(unsigned\b.*|u8|u16|u32|u64|__u8|__u16|__u32|__u64|uint\d+_t|size_t|bool|_Bool|__be\d+|__le\d+|uid_t|gid_t)$/;

/** Whether a scalar type cannot hold negative values. */
export function isUnsignedType(type: string): boolean {
  return UNSIGNED_TYPE.test(normaliseType(type));
}

/** The identifier an expression reduces to after parentheses and casts, or null. */
export function identifierName(node: Node | null): string | null {
  if (!node) return null;
  const expr = stripCasts(node);
  return expr.type === 'identifier' ? expr.text : null;
}
