// Parses raw BTF bytes (the .BTF section of an object, or the kernel's raw BTF of a map) into a
// table of types by id, every kind from int to enum64; used by the key/value decoder. Talks to nothing.

export enum BtfKind {
  Unknown = 0,
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
}

export const BTF_KIND_NAMES: Readonly<Record<number, string>> = {
  0: 'void', 1: 'int', 2: 'ptr', 3: 'array', 4: 'struct', 5: 'union', 6: 'enum', 7: 'fwd', 8: 'typedef',
  9: 'volatile', 10: 'const', 11: 'restrict', 12: 'func', 13: 'func_proto', 14: 'var', 15: 'datasec',
  16: 'float', 17: 'decl_tag', 18: 'type_tag', 19: 'enum64',
};

export interface BtfMember { name: string; type: number; bitOffset: number; bitfieldSize: number }
export interface BtfEnumValue { name: string; value: bigint }
export interface BtfParam { name: string; type: number }
export interface BtfSecInfo { type: number; offset: number; size: number }

interface BtfTypeBase { id: number; name: string }
export type BtfType =
  | (BtfTypeBase & { kind: BtfKind.Unknown })
  | (BtfTypeBase & { kind: BtfKind.Int; size: number; signed: boolean; char: boolean; bool: boolean; bitOffset: number; bits: number })
  | (BtfTypeBase & { kind: BtfKind.Ptr | BtfKind.Typedef | BtfKind.Volatile | BtfKind.Const | BtfKind.Restrict | BtfKind.TypeTag; type: number })
  | (BtfTypeBase & { kind: BtfKind.Array; type: number; indexType: number; nelems: number })
  | (BtfTypeBase & { kind: BtfKind.Struct | BtfKind.Union; size: number; members: BtfMember[] })
  | (BtfTypeBase & { kind: BtfKind.Enum | BtfKind.Enum64; size: number; signed: boolean; values: BtfEnumValue[] })
  | (BtfTypeBase & { kind: BtfKind.Fwd; union: boolean })
  | (BtfTypeBase & { kind: BtfKind.Func; type: number; linkage: number })
  | (BtfTypeBase & { kind: BtfKind.FuncProto; returnType: number; params: BtfParam[] })
  | (BtfTypeBase & { kind: BtfKind.Var; type: number; linkage: number })
  | (BtfTypeBase & { kind: BtfKind.Datasec; size: number; vars: BtfSecInfo[] })
  | (BtfTypeBase & { kind: BtfKind.Float; size: number })
  | (BtfTypeBase & { kind: BtfKind.DeclTag; type: number; componentIdx: number });

/** A parsed BTF blob. Ids below `firstId` belong to the base BTF (split BTF, e.g. kernel modules). */
export interface Btf {
  readonly littleEndian: boolean;
  readonly firstId: number;
  /** Looks up a type by id (base types included); id 0 is void. */
  type(id: number): BtfType;
  /** Number of the last type id. */
  readonly lastId: number;
  /** Finds the first type with this name (and kind, if given). */
  findByName(name: string, kind?: BtfKind): BtfType | undefined;
}

export class BtfParseError extends Error {}

const VOID: BtfType = { id: 0, name: 'void', kind: BtfKind.Unknown };
const BTF_MAGIC = 0xeb9f;
const HEADER_MIN = 24;

/** Parses raw BTF bytes. `base` is the base BTF when the blob is split BTF (starts after its types). */
export function parseBtf(bytes: Uint8Array, base?: Btf): Btf {
  if (bytes.byteLength < HEADER_MIN) throw new BtfParseError(`BTF too short: ${bytes.byteLength} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le = true;
  if (dv.getUint16(0, true) !== BTF_MAGIC) {
    if (dv.getUint16(0, false) !== BTF_MAGIC) throw new BtfParseError('not BTF: bad magic');
    le = false;
  }
  const version = dv.getUint8(2);
  if (version !== 1) throw new BtfParseError(`unsupported BTF version ${version}`);
  const hdrLen = dv.getUint32(4, le);
  const typeOff = dv.getUint32(8, le);
  const typeLen = dv.getUint32(12, le);
  const strOff = dv.getUint32(16, le);
  const strLen = dv.getUint32(20, le);
  if (hdrLen < HEADER_MIN || hdrLen + typeOff + typeLen > bytes.byteLength || hdrLen + strOff + strLen > bytes.byteLength) {
    throw new BtfParseError('BTF header sections run past the end of the data');
  }
  const strStart = hdrLen + strOff;
  const strEnd = strStart + strLen;
  const baseStrLen = base ? (base as ParsedBtf).stringsLength : 0;
  const baseLookup = base ? (base as ParsedBtf).stringAt : undefined;
  const decoder = new TextDecoder();
  const strCache = new Map<number, string>();
  const stringAt = (off: number): string => {
    if (off < baseStrLen && baseLookup) return baseLookup(off);
    const local = off - baseStrLen;
    const cached = strCache.get(off);
    if (cached !== undefined) return cached;
    const start = strStart + local;
    if (start >= strEnd) throw new BtfParseError(`string offset ${off} outside the string section`);
    let end = start;
    while (end < strEnd && bytes[end] !== 0) end++;
    const s = decoder.decode(bytes.subarray(start, end));
    strCache.set(off, s);
    return s;
  };

  const firstId = base ? base.lastId + 1 : 1;
  const types: BtfType[] = [];
  let p = hdrLen + typeOff;
  const end = p + typeLen;
  const u32 = (o: number) => dv.getUint32(o, le);
  while (p < end) {
    if (p + 12 > end) throw new BtfParseError('truncated BTF type record');
    const id = firstId + types.length;
    const name = stringAt(u32(p));
    const info = u32(p + 4);
    const sizeOrType = u32(p + 8);
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kindFlag = (info >>> 31) === 1;
    p += 12;
    let t: BtfType;
    switch (kind) {
      case BtfKind.Int: {
        const enc = u32(p);
        p += 4;
        const encoding = (enc >>> 24) & 0x0f;
        t = { id, name, kind, size: sizeOrType, signed: (encoding & 1) !== 0, char: (encoding & 2) !== 0, bool: (encoding & 4) !== 0, bitOffset: (enc >>> 16) & 0xff, bits: enc & 0xff };
        break;
      }
      case BtfKind.Ptr: case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict: case BtfKind.TypeTag:
        t = { id, name, kind, type: sizeOrType };
        break;
      case BtfKind.Array:
        t = { id, name, kind, type: u32(p), indexType: u32(p + 4), nelems: u32(p + 8) };
        p += 12;
        break;
      case BtfKind.Struct: case BtfKind.Union: {
        const members: BtfMember[] = [];
        for (let i = 0; i < vlen; i++, p += 12) {
          const off = u32(p + 8);
          members.push({ name: stringAt(u32(p)), type: u32(p + 4), bitOffset: kindFlag ? off & 0xffffff : off, bitfieldSize: kindFlag ? off >>> 24 : 0 });
        }
        t = { id, name, kind, size: sizeOrType, members };
        break;
      }
      case BtfKind.Enum: {
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++, p += 8) {
          values.push({ name: stringAt(u32(p)), value: kindFlag ? BigInt(dv.getInt32(p + 4, le)) : BigInt(u32(p + 4)) });
        }
        t = { id, name, kind, size: sizeOrType, signed: kindFlag, values };
        break;
      }
      case BtfKind.Enum64: {
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++, p += 12) {
          const raw = (BigInt(u32(p + 8)) << 32n) | BigInt(u32(p + 4));
          values.push({ name: stringAt(u32(p)), value: kindFlag ? BigInt.asIntN(64, raw) : raw });
        }
        t = { id, name, kind, size: sizeOrType, signed: kindFlag, values };
        break;
      }
      case BtfKind.Fwd:
        t = { id, name, kind, union: kindFlag };
        break;
      case BtfKind.Func:
        t = { id, name, kind, type: sizeOrType, linkage: vlen };
        break;
      case BtfKind.FuncProto: {
        const params: BtfParam[] = [];
        for (let i = 0; i < vlen; i++, p += 8) params.push({ name: stringAt(u32(p)), type: u32(p + 4) });
        t = { id, name, kind, returnType: sizeOrType, params };
        break;
      }
      case BtfKind.Var:
        t = { id, name, kind, type: sizeOrType, linkage: u32(p) };
        p += 4;
        break;
      case BtfKind.Datasec: {
        const vars: BtfSecInfo[] = [];
        for (let i = 0; i < vlen; i++, p += 12) vars.push({ type: u32(p), offset: u32(p + 4), size: u32(p + 8) });
        t = { id, name, kind, size: sizeOrType, vars };
        break;
      }
      case BtfKind.Float:
        t = { id, name, kind, size: sizeOrType };
        break;
      case BtfKind.DeclTag:
        t = { id, name, kind, type: sizeOrType, componentIdx: dv.getInt32(p, le) };
        p += 4;
        break;
      default:
        throw new BtfParseError(`unknown BTF kind ${kind} at type id ${id}`);
    }
    types.push(t);
  }
  if (p !== end) throw new BtfParseError('BTF type section ends inside a record');
  return new ParsedBtf(le, firstId, types, base, stringAt, baseStrLen + strLen);
}

class ParsedBtf implements Btf {
  readonly lastId: number;
  private byName?: Map<string, BtfType[]>;
  constructor(
    readonly littleEndian: boolean,
    readonly firstId: number,
    private readonly types: BtfType[],
    private readonly base: Btf | undefined,
    readonly stringAt: (off: number) => string,
    readonly stringsLength: number,
  ) {
    this.lastId = firstId + types.length - 1;
  }

  type(id: number): BtfType {
    if (id === 0) return VOID;
    if (id < this.firstId) {
      if (!this.base) throw new BtfParseError(`type id ${id} not in BTF`);
      return this.base.type(id);
    }
    const t = this.types[id - this.firstId];
    if (!t) throw new BtfParseError(`type id ${id} not in BTF (last id ${this.lastId})`);
    return t;
  }

  findByName(name: string, kind?: BtfKind): BtfType | undefined {
    if (!this.byName) {
      this.byName = new Map();
      for (const t of this.types) {
        const list = this.byName.get(t.name);
        if (list) list.push(t);
        else this.byName.set(t.name, [t]);
      }
    }
    const found = this.byName.get(name)?.find((t) => kind === undefined || t.kind === kind);
    return found ?? this.base?.findByName(name, kind);
  }
}

/** Follows typedef/const/volatile/restrict/type_tag to the type that gives the bytes their meaning. */
export function resolveType(btf: Btf, id: number): BtfType {
  let t = btf.type(id);
  for (let guard = 0; guard < 64; guard++) {
    switch (t.kind) {
      case BtfKind.Typedef: case BtfKind.Volatile: case BtfKind.Const: case BtfKind.Restrict: case BtfKind.TypeTag:
        t = btf.type(t.type);
        continue;
      default:
        return t;
    }
  }
  throw new BtfParseError(`type id ${id}: modifier chain too long (loop?)`);
}

/** Size in bytes of a type, as the C compiler lays it out. */
export function typeSize(btf: Btf, id: number): number {
  const t = resolveType(btf, id);
  switch (t.kind) {
    case BtfKind.Int: case BtfKind.Struct: case BtfKind.Union: case BtfKind.Enum: case BtfKind.Enum64: case BtfKind.Float: case BtfKind.Datasec:
      return t.size;
    case BtfKind.Ptr:
      return 8;
    case BtfKind.Array:
      return t.nelems * typeSize(btf, t.type);
    case BtfKind.Var:
      return typeSize(btf, t.type);
    default:
      return 0;
  }
}

/** A C-like spelling of a type for headers and error messages, e.g. `struct hist`, `__u32[16]`. */
export function typeName(btf: Btf, id: number): string {
  const t = btf.type(id);
  switch (t.kind) {
    case BtfKind.Struct: return `struct ${t.name || '(anon)'}`;
    case BtfKind.Union: return `union ${t.name || '(anon)'}`;
    case BtfKind.Enum: case BtfKind.Enum64: return `enum ${t.name || '(anon)'}`;
    case BtfKind.Ptr: return `${typeName(btf, t.type)} *`;
    case BtfKind.Array: return `${typeName(btf, t.type)}[${t.nelems}]`;
    case BtfKind.Const: return `const ${typeName(btf, t.type)}`;
    case BtfKind.Volatile: return `volatile ${typeName(btf, t.type)}`;
    case BtfKind.Restrict: return `${typeName(btf, t.type)} restrict`;
    case BtfKind.TypeTag: return typeName(btf, t.type);
    case BtfKind.Fwd: return `${t.union ? 'union' : 'struct'} ${t.name}`;
    default: return t.name || BTF_KIND_NAMES[t.kind] || '?';
  }
}
