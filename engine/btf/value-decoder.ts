// Turns map key/value bytes into JSON-able values through BTF, with one decoder compiled per type
// (closures, no eval, so it also runs under a webview's CSP). Shared by the CLI and the webviews.
//
// Output rules (documented in docs/live-views.md):
// - integers up to 32 bits, and 64-bit integers within ±(2^53-1), are JSON numbers; 64-bit values
//   beyond that and 128-bit integers are decimal strings (exact, BigInt-parsable); bool is true/false
// - pointers are integers by the same rule; floats are numbers ("NaN"/"Infinity" as strings)
// - char arrays are strings (up to the first NUL); other arrays are arrays
// - structs are objects (anonymous struct/union members merged into the parent), unions are objects
//   with every member's reading, enums are the enumerator's name (the number when none matches)
// - bitfields are numbers; a datasec (global data map) is an object of its variables
// - without BTF, or for a type with no layout (fwd, void, func), bytes are a lowercase hex string
import { Btf, BtfKind, BtfType, resolveType, typeSize } from './btf-types';

export type DecodedValue = number | string | boolean | null | DecodedValue[] | { [name: string]: DecodedValue };
export type FieldReader = (dv: DataView, offset: number) => DecodedValue;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const TWO32 = 4294967296;
const SAFE_HI = 0x200000; // 2^53 / 2^32

/** Lowercase hex of `size` bytes at `offset`, in memory order. */
export function hexReader(size: number): FieldReader {
  return (dv, off) => {
    let s = '';
    for (let i = 0; i < size; i++) s += HEX[dv.getUint8(off + i)];
    return s;
  };
}

/** Hex of a whole byte array (used when there is no BTF at all). */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

function u64Reader(le: boolean, signed: boolean): FieldReader {
  const loOff = le ? 0 : 4;
  const hiOff = le ? 4 : 0;
  if (signed) {
    return (dv, off) => {
      const hi = dv.getInt32(off + hiOff, le);
      const lo = dv.getUint32(off + loOff, le);
      if (hi < SAFE_HI && (hi > -SAFE_HI || (hi === -SAFE_HI && lo > 0))) return hi * TWO32 + lo;
      return dv.getBigInt64(off, le).toString();
    };
  }
  return (dv, off) => {
    const hi = dv.getUint32(off + hiOff, le);
    const lo = dv.getUint32(off + loOff, le);
    if (hi < SAFE_HI) return hi * TWO32 + lo;
    return dv.getBigUint64(off, le).toString();
  };
}

function bigIntAt(dv: DataView, off: number, size: number, le: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < size; i++) {
    const b = BigInt(dv.getUint8(le ? off + size - 1 - i : off + i));
    v = (v << 8n) | b;
  }
  return v;
}

/** Reads an integer of `size` bytes as a JSON value by the rules above. */
export function intReader(size: number, signed: boolean, le: boolean): FieldReader {
  switch (size) {
    case 1: return signed ? (dv, off) => dv.getInt8(off) : (dv, off) => dv.getUint8(off);
    case 2: return signed ? (dv, off) => dv.getInt16(off, le) : (dv, off) => dv.getUint16(off, le);
    case 4: return signed ? (dv, off) => dv.getInt32(off, le) : (dv, off) => dv.getUint32(off, le);
    case 8: return u64Reader(le, signed);
    default:
      return (dv, off) => {
        let v = bigIntAt(dv, off, size, le);
        if (signed) v = BigInt.asIntN(size * 8, v);
        return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
      };
  }
}

/** Reads an integer as a JS number for sorting and arithmetic (64-bit values may lose low bits). */
export function intAsNumber(size: number, signed: boolean, le: boolean): (dv: DataView, offset: number) => number {
  switch (size) {
    case 1: return signed ? (dv, off) => dv.getInt8(off) : (dv, off) => dv.getUint8(off);
    case 2: return signed ? (dv, off) => dv.getInt16(off, le) : (dv, off) => dv.getUint16(off, le);
    case 4: return signed ? (dv, off) => dv.getInt32(off, le) : (dv, off) => dv.getUint32(off, le);
    case 8: {
      const loOff = le ? 0 : 4;
      const hiOff = le ? 4 : 0;
      return signed
        ? (dv, off) => dv.getInt32(off + hiOff, le) * TWO32 + dv.getUint32(off + loOff, le)
        : (dv, off) => dv.getUint32(off + hiOff, le) * TWO32 + dv.getUint32(off + loOff, le);
    }
    default: return (dv, off) => Number(bigIntAt(dv, off, size, le));
  }
}

function bitfieldReader(bitOffset: number, bits: number, signed: boolean, le: boolean): FieldReader {
  const firstByte = bitOffset >>> 3;
  const shift = bitOffset & 7;
  const span = Math.ceil((shift + bits) / 8);
  return (dv, off) => {
    let v = 0n;
    for (let i = 0; i < span; i++) {
      const b = BigInt(dv.getUint8(off + firstByte + (le ? span - 1 - i : i)));
      v = (v << 8n) | b;
    }
    const shiftRight = le ? shift : span * 8 - shift - bits;
    v = (v >> BigInt(shiftRight)) & ((1n << BigInt(bits)) - 1n);
    if (signed) v = BigInt.asIntN(bits, v);
    return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
  };
}

function stringReader(length: number): FieldReader {
  const utf8 = new TextDecoder();
  return (dv, off) => {
    let s = '';
    for (let i = 0; i < length; i++) {
      const c = dv.getUint8(off + i);
      if (c === 0) return s;
      if (c >= 0x80) {
        let end = i;
        while (end < length && dv.getUint8(off + end) !== 0) end++;
        return utf8.decode(new Uint8Array(dv.buffer, dv.byteOffset + off, end));
      }
      s += String.fromCharCode(c);
    }
    return s;
  };
}

function floatReader(size: number, le: boolean): FieldReader {
  const finite = (v: number): DecodedValue => (Number.isFinite(v) ? v : String(v));
  if (size === 4) return (dv, off) => finite(dv.getFloat32(off, le));
  if (size === 8) return (dv, off) => finite(dv.getFloat64(off, le));
  return hexReader(size);
}

/** True for an array element type that C code uses for text: 1-byte `char` (or BTF_INT_CHAR). */
export function isCharType(t: BtfType): boolean {
  return t.kind === BtfKind.Int && t.size === 1 && (t.char || t.name === 'char');
}

function enumReader(t: Extract<BtfType, { kind: BtfKind.Enum | BtfKind.Enum64 }>, le: boolean): FieldReader {
  const names = new Map<number | string, string>();
  for (const v of t.values) {
    const n = v.value >= -9007199254740991n && v.value <= 9007199254740991n ? Number(v.value) : v.value.toString();
    if (!names.has(n)) names.set(n, v.name);
  }
  const read = intReader(t.size, t.signed, le);
  return (dv, off) => {
    const n = read(dv, off) as number | string;
    return names.get(n) ?? n;
  };
}

interface StructField { name: string; offset: number; read: FieldReader; merge: boolean }

/** Compiles a reader for a BTF type; call once per type and reuse it for every entry. */
export function compileReader(btf: Btf, typeId: number): FieldReader {
  return new ReaderCompiler(btf).compile(typeId);
}

class ReaderCompiler {
  private readonly cache = new Map<number, FieldReader>();
  private readonly le: boolean;
  constructor(private readonly btf: Btf) {
    this.le = btf.littleEndian;
  }

  compile(typeId: number): FieldReader {
    const cached = this.cache.get(typeId);
    if (cached) return cached;
    // Self-referencing types can only recur through pointers, which do not recurse here.
    const reader = this.build(typeId);
    this.cache.set(typeId, reader);
    return reader;
  }

  private build(typeId: number): FieldReader {
    const btf = this.btf;
    const t = resolveType(btf, typeId);
    const le = this.le;
    switch (t.kind) {
      case BtfKind.Int:
        if (t.bool && t.size === 1) return (dv, off) => dv.getUint8(off) !== 0;
        if (t.bitOffset !== 0 || t.bits !== t.size * 8) return bitfieldReader(t.bitOffset, t.bits, t.signed, le);
        return intReader(t.size, t.signed, le);
      case BtfKind.Ptr:
        return u64Reader(le, false);
      case BtfKind.Enum: case BtfKind.Enum64:
        return enumReader(t, le);
      case BtfKind.Float:
        return floatReader(t.size, le);
      case BtfKind.Array: {
        const elem = resolveType(btf, t.type);
        if (isCharType(elem)) return stringReader(t.nelems);
        const elemSize = typeSize(btf, t.type);
        const readElem = this.compile(t.type);
        const n = t.nelems;
        return (dv, off) => {
          const out = new Array<DecodedValue>(n);
          for (let i = 0; i < n; i++) out[i] = readElem(dv, off + i * elemSize);
          return out;
        };
      }
      case BtfKind.Struct: case BtfKind.Union:
        return this.structReader(t);
      case BtfKind.Datasec: {
        const fields = t.vars.map((v) => {
          const vt = btf.type(v.type);
          return { name: vt.name, offset: v.offset, read: this.compile(vt.kind === BtfKind.Var ? vt.type : v.type) };
        });
        return (dv, off) => {
          const o: Record<string, DecodedValue> = {};
          for (const f of fields) o[f.name] = f.read(dv, off + f.offset);
          return o;
        };
      }
      case BtfKind.Var:
        return this.compile(t.type);
      default:
        return hexReader(typeSize(btf, typeId));
    }
  }

  private structReader(t: Extract<BtfType, { kind: BtfKind.Struct | BtfKind.Union }>): FieldReader {
    const fields: StructField[] = [];
    for (const m of t.members) {
      const mt = resolveType(this.btf, m.type);
      const isAggregate = mt.kind === BtfKind.Struct || mt.kind === BtfKind.Union;
      if (!m.name && !isAggregate) continue; // unnamed padding bitfield
      let bitOffset = m.bitOffset;
      let bits = m.bitfieldSize;
      if (bits === 0 && mt.kind === BtfKind.Int && (mt.bitOffset !== 0 || mt.bits !== mt.size * 8)) {
        bitOffset += mt.bitOffset;
        bits = mt.bits;
      }
      if (bits !== 0 || bitOffset % 8 !== 0) {
        const signed = (mt.kind === BtfKind.Int || mt.kind === BtfKind.Enum || mt.kind === BtfKind.Enum64) && mt.signed;
        const width = bits || typeSize(this.btf, m.type) * 8;
        const byteStart = Math.floor(bitOffset / 8) & ~7;
        const raw = bitfieldReader(bitOffset - byteStart * 8, width, signed, this.le);
        fields.push({ name: m.name, offset: byteStart, read: mt.kind === BtfKind.Enum || mt.kind === BtfKind.Enum64 ? this.enumFromBits(mt, raw) : raw, merge: false });
        continue;
      }
      fields.push({ name: m.name, offset: bitOffset / 8, read: this.compile(m.type), merge: !m.name });
    }
    const n = fields.length;
    const names = fields.map((f) => f.name);
    const offsets = fields.map((f) => f.offset);
    const readers = fields.map((f) => f.read);
    const merges = fields.map((f) => f.merge);
    const anyMerge = merges.some(Boolean);
    if (!anyMerge) {
      return (dv, off) => {
        const o: Record<string, DecodedValue> = {};
        for (let i = 0; i < n; i++) o[names[i]] = readers[i](dv, off + offsets[i]);
        return o;
      };
    }
    return (dv, off) => {
      const o: Record<string, DecodedValue> = {};
      for (let i = 0; i < n; i++) {
        const v = readers[i](dv, off + offsets[i]);
        if (merges[i]) Object.assign(o, v);
        else o[names[i]] = v;
      }
      return o;
    };
  }

  private enumFromBits(t: Extract<BtfType, { kind: BtfKind.Enum | BtfKind.Enum64 }>, raw: FieldReader): FieldReader {
    const names = new Map<DecodedValue, string>();
    for (const v of t.values) names.set(Number(v.value), v.name);
    return (dv, off) => {
      const n = raw(dv, off);
      return names.get(n) ?? n;
    };
  }
}

/** How a map's keys and values are laid out and typed, as the agent reports them. */
export interface MapLayout {
  keySize: number;
  valueSize: number;
  /** BTF type ids of key and value; 0 or absent when unknown. */
  keyTypeId?: number;
  valueTypeId?: number;
  /** Per-CPU maps store one value per possible CPU, each rounded up to 8 bytes. */
  perCpu: boolean;
  possibleCpus: number;
}

/** Decodes whole map entries: key and value (an array per CPU for per-CPU maps). */
export interface MapEntryDecoder {
  readonly valueStride: number;
  key(dv: DataView, offset: number): DecodedValue;
  value(dv: DataView, offset: number): DecodedValue;
}

/** Bytes one value occupies in a lookup buffer: value size, or per CPU rounded to 8 times CPUs. */
export function valueStride(layout: MapLayout): number {
  return layout.perCpu ? Math.ceil(layout.valueSize / 8) * 8 * layout.possibleCpus : layout.valueSize;
}

export function compileMapDecoder(layout: MapLayout, btf: Btf | undefined): MapEntryDecoder {
  const compiler = btf ? new ReaderCompiler(btf) : undefined;
  const readerFor = (typeId: number | undefined, size: number): FieldReader => {
    if (!compiler || !btf || !typeId) return hexReader(size);
    if (typeSize(btf, typeId) !== size) return hexReader(size);
    return compiler.compile(typeId);
  };
  const key = readerFor(layout.keyTypeId, layout.keySize);
  const one = readerFor(layout.valueTypeId, layout.valueSize);
  if (!layout.perCpu) return { valueStride: layout.valueSize, key, value: one };
  const cpuStride = Math.ceil(layout.valueSize / 8) * 8;
  const cpus = layout.possibleCpus;
  return {
    valueStride: cpuStride * cpus,
    key,
    value: (dv, off) => {
      const out = new Array<DecodedValue>(cpus);
      for (let c = 0; c < cpus; c++) out[c] = one(dv, off + c * cpuStride);
      return out;
    },
  };
}

/** Decodes `count` entries laid out back to back (keys in one buffer, values in another). */
export function decodeEntries(
  decoder: MapEntryDecoder, keySize: number, keys: Uint8Array, values: Uint8Array, count: number,
): { key: DecodedValue; value: DecodedValue }[] {
  const kdv = new DataView(keys.buffer, keys.byteOffset, keys.byteLength);
  const vdv = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const stride = decoder.valueStride;
  const out = new Array<{ key: DecodedValue; value: DecodedValue }>(count);
  for (let i = 0; i < count; i++) out[i] = { key: decoder.key(kdv, i * keySize), value: decoder.value(vdv, i * stride) };
  return out;
}
