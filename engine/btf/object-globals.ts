// The `const volatile` globals a compiled probe lets user space set before load (its .rodata, as libbpf-tools' skeletons
// set them): name, C type, default value from the object's BTF and section bytes, and typed checking of a new value. Pure.
import { BtfKind, parseBtf, resolveType, typeName, type Btf, type BtfType } from './btf-types';
import { elfSection, elfSectionSymbols } from './elf-sections';
import { compileReader, isCharType, type DecodedValue } from './value-decoder';

export type GlobalKind = 'integer' | 'bool' | 'enum' | 'text' | 'other';

export interface ObjectGlobal {
  name: string;
  /** The C type as declared, without const/volatile: `__u32`, `pid_t`, `bool`, `char[16]`, `enum mode`. */
  type: string;
  kind: GlobalKind;
  /** Bytes the global takes. */
  size: number;
  signed: boolean;
  /** For an enum: its enumerators (name and value as decimal text), in declaration order. */
  enumerators?: { name: string; value: string }[];
  /** The value compiled into the object (decoded through BTF). */
  defaultValue: DecodedValue;
}

const BTF_VAR_GLOBAL_ALLOCATED = 1;

/** A value the agent's `globals` load option takes: integers as decimal text (64-bit values stay exact). */
export type GlobalValue = string | boolean;

/** Drops const/volatile/restrict, of an array's elements too (keeps typedef names, which say more than the type they stand for). */
function declaredTypeName(btf: Btf, id: number): string {
  let t = btf.type(id);
  while (t.kind === BtfKind.Const || t.kind === BtfKind.Volatile || t.kind === BtfKind.Restrict || t.kind === BtfKind.TypeTag) t = btf.type(t.type);
  return t.kind === BtfKind.Array ? `${declaredTypeName(btf, t.type)}[${t.nelems}]` : typeName(btf, t.id);
}

function kindOf(t: BtfType, btf: Btf): GlobalKind {
  if (t.kind === BtfKind.Int) return t.bool ? 'bool' : 'integer';
  if (t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64) return 'enum';
  if (t.kind === BtfKind.Array && isCharType(resolveType(btf, t.type))) return 'text';
  return 'other';
}

/** The .rodata globals of a BPF object (ELF bytes) in the order of its BTF; [] when it has no BTF or no .rodata. */
export function objectGlobals(object: Uint8Array): ObjectGlobal[] {
  const rawBtf = elfSection(object, '.BTF');
  const data = elfSection(object, '.rodata');
  if (!rawBtf || !data) return [];
  const btf = parseBtf(rawBtf);
  const section = btf.findByName('.rodata', BtfKind.Datasec);
  if (!section || section.kind !== BtfKind.Datasec) return [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // clang leaves DATASEC offsets at 0 in the object (libbpf fills them in from the symbol table): take them from there
  const symbols = elfSectionSymbols(object, '.rodata');
  return section.vars.flatMap((sectionVar): ObjectGlobal[] => {
    const variable = btf.type(sectionVar.type);
    const info = symbols.get(variable.name) ?? sectionVar;
    // static ones (a function's `static const int zero`) are no parameter: skeletons leave them out too
    if (variable.kind !== BtfKind.Var || variable.linkage !== BTF_VAR_GLOBAL_ALLOCATED || info.offset + info.size > data.byteLength) return [];
    const resolved = resolveType(btf, variable.type);
    const kind = kindOf(resolved, btf);
    return [{
      name: variable.name,
      type: declaredTypeName(btf, variable.type),
      kind,
      size: info.size,
      signed: (resolved.kind === BtfKind.Int || resolved.kind === BtfKind.Enum || resolved.kind === BtfKind.Enum64) && resolved.signed,
      ...(resolved.kind === BtfKind.Enum || resolved.kind === BtfKind.Enum64 ? { enumerators: resolved.values.map((v) => ({ name: v.name, value: v.value.toString() })) } : {}),
      defaultValue: compileReader(btf, variable.type)(view, info.offset),
    }];
  });
}

function integerRange(size: number, signed: boolean): [bigint, bigint] {
  const bits = BigInt(size * 8);
  return signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

function parseInteger(text: string): bigint | undefined {
  const t = text.trim();
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) return undefined;
  return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
}

/** Checks `text` as a value of `global`: the value to hand the agent, or why it does not fit (said as a sentence). */
export function parseGlobalValue(global: ObjectGlobal, text: string): { value: GlobalValue } | { error: string } {
  const trimmed = text.trim();
  switch (global.kind) {
    case 'bool':
      if (/^(true|1)$/i.test(trimmed)) return { value: true };
      if (/^(false|0)$/i.test(trimmed)) return { value: false };
      return { error: `${global.name} is a bool: true or false.` };
    case 'integer':
    case 'enum': {
      // the agent sets integers: an enumerator's name becomes its value
      const named = global.enumerators?.find((e) => e.name === trimmed);
      if (named) return { value: named.value };
      const n = parseInteger(trimmed);
      const [min, max] = integerRange(global.size, global.signed);
      const what = global.kind === 'enum' ? `an ${global.type} (${global.enumerators?.map((e) => e.name).join(', ')}) or a whole number` : `a whole number`;
      if (n === undefined) return { error: `${global.name} is ${global.type}: ${what} from ${min} to ${max}.` };
      if (n < min || n > max) return { error: `${global.name} is ${global.type} (${global.signed ? 'signed' : 'unsigned'} ${global.size * 8}-bit): ${n} is outside ${min}…${max}.` };
      return { value: n.toString() };
    }
    case 'text': {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes >= global.size) return { error: `${global.name} is ${global.type}: at most ${global.size - 1} bytes of text (with its terminating NUL), not ${bytes}.` };
      return { value: text };
    }
    default:
      return { error: `${global.name} is ${global.type}; only integers, enums, bools and char arrays can be set before load.` };
  }
}
