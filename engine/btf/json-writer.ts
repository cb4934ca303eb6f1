// Writes map keys/values straight to UTF-8 JSON bytes through BTF: one JavaScript function generated per
// map type (Node only: `new Function`, so never in a webview), no intermediate objects. Output equals
// JSON.stringify of value-decoder.ts's readers (the unit tests check that). The `maps dump` fast path.
import { Btf, BtfKind, resolveType, typeSize } from './btf-types';
import { compileReader, hexReader, isCharType, valueStride, type FieldReader, type MapLayout } from './value-decoder';

const textEncoder = new TextEncoder();

/** A growable byte buffer; writers append at `pos`; `take()` hands out what was written and starts over. */
export class JsonSink {
  buf: Uint8Array;
  pos = 0;
  constructor(initialSize = 1 << 20) {
    this.buf = new Uint8Array(initialSize);
  }
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.pos++] = text.charCodeAt(i);
  }
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(this.buf.length);
    this.pos = 0;
    return out;
  }
}

/** Writes one value at `offset` into `buf` from `pos` (the caller reserved `maxBytes`); returns the new pos. */
export type JsonWriteFn = (dv: DataView, offset: number, buf: Uint8Array, pos: number) => number;
export interface JsonWriter {
  write: JsonWriteFn;
  /** Upper bound of the bytes one value can take. */
  maxBytes: number;
}

// Helpers the generated code calls (monomorphic, so the JIT inlines them).
function writeUint(buf: Uint8Array, p: number, n: number): number {
  if (n < 10) {
    buf[p] = 48 + n;
    return p + 1;
  }
  if (n > 0xffffffff) {
    // Up to 2^53: the part above 10^9, then the last nine digits zero-padded.
    const high = Math.floor(n / 1e9);
    let low = n - high * 1e9;
    const end = writeUint(buf, p, high) + 9;
    for (let q = end - 1; q >= end - 9; q--) {
      const d = (low / 10) >>> 0;
      buf[q] = 48 + low - d * 10;
      low = d;
    }
    return end;
  }
  const digits = n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
  let q = p + digits;
  let m = n >>> 0;
  while (m >= 10) {
    const d = (m / 10) >>> 0;
    buf[--q] = 48 + m - d * 10;
    m = d;
  }
  buf[--q] = 48 + m;
  return p + digits;
}
function writeInt(buf: Uint8Array, p: number, n: number): number {
  if (n >= 0) return writeUint(buf, p, n);
  buf[p] = 45;
  return writeUint(buf, p + 1, -n);
}
function writeJson(buf: Uint8Array, p: number, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return writeInt(buf, p, value);
  const bytes = textEncoder.encode(JSON.stringify(value));
  buf.set(bytes, p);
  return p + bytes.length;
}
function writeU64(dv: DataView, off: number, le: boolean, buf: Uint8Array, p: number): number {
  const hi = dv.getUint32(off + (le ? 4 : 0), le);
  if (hi < 0x200000) return writeUint(buf, p, hi * 4294967296 + dv.getUint32(off + (le ? 0 : 4), le));
  return writeJson(buf, p, dv.getBigUint64(off, le).toString());
}
function writeChars(dv: DataView, off: number, len: number, buf: Uint8Array, p: number, slow: FieldReader): number {
  const start = p;
  buf[p++] = 34;
  for (let i = 0; i < len; i++) {
    const c = dv.getUint8(off + i);
    if (c === 0) break;
    if (c < 0x20 || c >= 0x7f) return writeJson(buf, start, slow(dv, off));
    if (c === 34 || c === 92) buf[p++] = 92;
    buf[p++] = c;
  }
  buf[p++] = 34;
  return p;
}
function writeEnum(buf: Uint8Array, p: number, names: Map<number, Uint8Array>, value: number): number {
  const name = names.get(value);
  if (!name) return writeInt(buf, p, value);
  buf.set(name, p);
  return p + name.length;
}

const HELPERS = { writeUint, writeInt, writeJson, writeU64, writeChars, writeEnum };

/** Generates the writer's code for one type; everything it cannot write inline goes through a reader. */
class JsonCodegen {
  readonly constants: unknown[] = [];
  private vars = 0;
  constructor(private readonly btf: Btf) {}

  constant(value: unknown): string {
    this.constants.push(value);
    return `K[${this.constants.length - 1}]`;
  }

  literal(text: string): { code: string; bytes: number } {
    const bytes = textEncoder.encode(text);
    return { code: Array.from(bytes, (b) => `buf[p++]=${b};`).join(''), bytes: bytes.length };
  }

  private viaReader(typeId: number, off: string, maxBytes: number): { code: string; maxBytes: number } {
    return { code: `p=H.writeJson(buf,p,${this.constant(compileReader(this.btf, typeId))}(dv,${off}));`, maxBytes };
  }

  /** Code writing the value of `typeId` at byte offset expression `off`, and its byte bound. */
  gen(typeId: number, off: string): { code: string; maxBytes: number } {
    const btf = this.btf;
    const le = btf.littleEndian;
    const t = resolveType(btf, typeId);
    switch (t.kind) {
      case BtfKind.Int: {
        const plain = !t.bool && t.bitOffset === 0 && t.bits === t.size * 8;
        if (plain && t.size <= 4) {
          const get = `get${t.signed ? 'Int' : 'Uint'}${t.size * 8}`;
          return { code: `p=H.write${t.signed ? 'Int' : 'Uint'}(buf,p,dv.${get}(${off}${t.size > 1 ? `,${le}` : ''}));`, maxBytes: 11 };
        }
        if (plain && t.size === 8 && !t.signed) return { code: `p=H.writeU64(dv,${off},${le},buf,p);`, maxBytes: 22 };
        return this.viaReader(typeId, off, t.bool ? 5 : Math.ceil(t.size * 2.5) + 4);
      }
      case BtfKind.Ptr:
        return { code: `p=H.writeU64(dv,${off},${le},buf,p);`, maxBytes: 22 };
      case BtfKind.Enum: case BtfKind.Enum64: {
        const names = new Map<number, Uint8Array>();
        let longest = 0;
        for (const v of t.values) {
          const bytes = textEncoder.encode(JSON.stringify(v.name));
          longest = Math.max(longest, bytes.length);
          const n = Number(v.value);
          if (Number.isSafeInteger(n) && !names.has(n)) names.set(n, bytes);
        }
        if (t.size === 4) {
          const get = t.signed ? 'getInt32' : 'getUint32';
          return { code: `p=H.writeEnum(buf,p,${this.constant(names)},dv.${get}(${off},${le}));`, maxBytes: Math.max(longest, 11) };
        }
        return this.viaReader(typeId, off, Math.max(longest, 24));
      }
      case BtfKind.Float:
        return this.viaReader(typeId, off, 26);
      case BtfKind.Array: {
        const elem = resolveType(btf, t.type);
        if (isCharType(elem)) {
          return { code: `p=H.writeChars(dv,${off},${t.nelems},buf,p,${this.constant(compileReader(btf, typeId))});`, maxBytes: t.nelems * 6 + 2 };
        }
        const size = typeSize(btf, t.type);
        const i = `i${this.vars++}`;
        const inner = this.gen(t.type, `${off}+${i}*${size}`);
        return {
          code: `buf[p++]=91;for(let ${i}=0;${i}<${t.nelems};${i}++){if(${i}>0)buf[p++]=44;${inner.code}}buf[p++]=93;`,
          maxBytes: 2 + t.nelems * (inner.maxBytes + 1),
        };
      }
      case BtfKind.Struct: case BtfKind.Union: {
        let code = '';
        let maxBytes = 2;
        const seen = new Set<string>();
        for (const m of t.members) {
          const mt = resolveType(btf, m.type);
          const bitfield = m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0 || (mt.kind === BtfKind.Int && (mt.bitOffset !== 0 || mt.bits !== mt.size * 8));
          if (bitfield || m.name === '' || seen.has(m.name)) return this.viaReader(typeId, off, this.objectBound(typeId));
          seen.add(m.name);
          const prefix = this.literal((seen.size === 1 ? '{' : ',') + JSON.stringify(m.name) + ':');
          const inner = this.gen(m.type, `${off}+${m.bitOffset / 8}`);
          code += prefix.code + inner.code;
          maxBytes += prefix.bytes + inner.maxBytes;
        }
        code += seen.size === 0 ? 'buf[p++]=123;buf[p++]=125;' : 'buf[p++]=125;';
        return { code, maxBytes };
      }
      default:
        return this.viaReader(typeId, off, this.objectBound(typeId));
    }
  }

  /** Byte bound of any value the object reader can produce for a type (for the non-inline paths). */
  private objectBound(typeId: number): number {
    const btf = this.btf;
    const t = resolveType(btf, typeId);
    switch (t.kind) {
      case BtfKind.Struct: case BtfKind.Union:
        return 2 + t.members.reduce((sum, m) => sum + textEncoder.encode(JSON.stringify(m.name)).length + 2 + this.objectBound(m.type), 0);
      case BtfKind.Array:
        return isCharType(resolveType(btf, t.type)) ? t.nelems * 6 + 2 : 2 + t.nelems * (this.objectBound(t.type) + 1);
      case BtfKind.Datasec:
        return 2 + t.vars.reduce((sum, v) => sum + textEncoder.encode(JSON.stringify(btf.type(v.type).name)).length + 2 + this.objectBound(v.type), 0);
      case BtfKind.Var:
        return this.objectBound(t.type);
      case BtfKind.Enum: case BtfKind.Enum64:
        return Math.max(24, ...t.values.map((v) => textEncoder.encode(JSON.stringify(v.name)).length));
      default:
        return Math.max(26, typeSize(btf, typeId) * 2 + 4, Math.ceil(typeSize(btf, typeId) * 2.5) + 4);
    }
  }
}

function hexWriter(size: number): JsonWriter {
  const read = hexReader(size);
  return { write: (dv, off, buf, p) => writeJson(buf, p, read(dv, off)), maxBytes: size * 2 + 2 };
}

/** Compiles a JSON writer for a BTF type (generated code); reuse it for every entry. */
export function compileJsonWriter(btf: Btf, typeId: number): JsonWriter {
  const codegen = new JsonCodegen(btf);
  const { code, maxBytes } = codegen.gen(typeId, 'o');
  const factory = new Function('H', 'K', `"use strict";return function(dv,o,buf,p){${code}return p;};`) as (h: typeof HELPERS, k: unknown[]) => JsonWriteFn;
  return { write: factory(HELPERS, codegen.constants), maxBytes };
}

/** JSON writers for whole entries; per-CPU values become an array with one element per CPU. */
export interface MapEntryJsonWriter {
  readonly valueStride: number;
  readonly maxEntryBytes: number;
  key: JsonWriteFn;
  value: JsonWriteFn;
}

export function compileMapJsonWriter(layout: MapLayout, btf: Btf | undefined): MapEntryJsonWriter {
  const writerFor = (typeId: number | undefined, size: number): JsonWriter =>
    !btf || !typeId || typeSize(btf, typeId) !== size ? hexWriter(size) : compileJsonWriter(btf, typeId);
  const key = writerFor(layout.keyTypeId, layout.keySize);
  const one = writerFor(layout.valueTypeId, layout.valueSize);
  if (!layout.perCpu) return { valueStride: layout.valueSize, maxEntryBytes: key.maxBytes + one.maxBytes + 32, key: key.write, value: one.write };
  const cpuStride = Math.ceil(layout.valueSize / 8) * 8;
  const cpus = layout.possibleCpus;
  const writeOne = one.write;
  return {
    valueStride: cpuStride * cpus,
    maxEntryBytes: key.maxBytes + cpus * (one.maxBytes + 1) + 34,
    key: key.write,
    value: (dv, off, buf, p) => {
      buf[p++] = 91;
      for (let c = 0; c < cpus; c++) {
        if (c > 0) buf[p++] = 44;
        p = writeOne(dv, off + c * cpuStride, buf, p);
      }
      buf[p++] = 93;
      return p;
    },
  };
}

/** Writes entries [from, count) until the buffer passes `limit`; returns the next entry and sets `state.p`. */
export type DumpLoop = (kdv: DataView, vdv: DataView, from: number, count: number, buf: Uint8Array, p: number, limit: number, state: { p: number; first: boolean }) => number;

/**
 * The whole `maps dump` inner loop as one generated function (entry separators, key, value), so the JIT
 * compiles a single loop with everything inlined instead of warming up a call per field per entry.
 * `maxEntryBytes` bounds one entry; the caller keeps `limit + maxEntryBytes` room in the buffer.
 */
export function compileDumpLoop(layout: MapLayout, btf: Btf | undefined, format: 'json' | 'text'): { loop: DumpLoop; maxEntryBytes: number; valueStride: number } {
  const codegen = new JsonCodegen(btf as Btf);
  const typed = (typeId: number | undefined, size: number) => btf && typeId && typeSize(btf, typeId) === size;
  const part = (typeId: number | undefined, size: number) => typed(typeId, size)
    ? codegen.gen(typeId as number, 'o')
    : { code: `p=H.writeJson(buf,p,${codegen.constant(hexReader(size))}(dv,o));`, maxBytes: size * 2 + 2 };
  const key = part(layout.keyTypeId, layout.keySize);
  const one = part(layout.valueTypeId, layout.valueSize);
  const cpuStride = Math.ceil(layout.valueSize / 8) * 8;
  const stride = valueStride(layout);
  const cpus = layout.perCpu ? layout.possibleCpus : 1;
  const value = layout.perCpu
    ? { code: `buf[p++]=91;for(let c=0;c<${cpus};c++){if(c>0)buf[p++]=44;{const o=b+c*${cpuStride};${one.code}}}buf[p++]=93;`, maxBytes: 2 + cpus * (one.maxBytes + 1) }
    : { code: `{const o=b;${one.code}}`, maxBytes: one.maxBytes };
  const json = format === 'json';
  const open = codegen.literal(json ? '{"key":' : 'key: ');
  const middle = codegen.literal(json ? ',"value":' : '  value: ');
  const close = json ? 'buf[p++]=125;' : '';
  const code = `"use strict";return function(kdv,vdv,e,n,buf,p,limit,st){
for(;e<n&&p<=limit;e++){
if(st.first){st.first=false;${json ? 'buf[p++]=10;' : ''}}else{${json ? 'buf[p++]=44;' : ''}buf[p++]=10;}
${open.code}
{const dv=kdv,o=e*${layout.keySize};${key.code}}
${middle.code}
{const dv=vdv,b=e*${stride};${value.code}}
${close}
}
st.p=p;return e;};`;
  const factory = new Function('H', 'K', code) as (h: typeof HELPERS, k: unknown[]) => DumpLoop;
  return { loop: factory(HELPERS, codegen.constants), maxEntryBytes: key.maxBytes + value.maxBytes + open.bytes + middle.bytes + 4, valueStride: stride };
}
