// Cuts a kernel's BTF down to the types a probe can name: those whose name (or an enumerator's) is one of the probe's
// identifiers, with everything they hold by value; a struct reached only through a pointer no identifier follows stays a forward.

const HEADER_BYTES = 24;
const KIND = { int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9, const: 10, restrict: 11, func: 12, funcProto: 13, variable: 14, datasec: 15, float: 16, declTag: 17, typeTag: 18, enum64: 19 };
/** Kinds whose third word is a type id (the rest: a size, or nothing). */
const REFERS = new Set([KIND.ptr, KIND.typedef, KIND.volatile, KIND.const, KIND.restrict, KIND.func, KIND.funcProto, KIND.variable, KIND.declTag, KIND.typeTag]);

/** What to keep of a type: all of it, or (a struct or union only pointed to) a forward declaration. */
type Keep = 'full' | 'forward';

/**
 * A BTF blob (same header and string section) holding only what a probe whose tokens are `identifiers` can reach by name:
 * bpftool dumps it to a header that compiles the probe like the whole vmlinux.h, in a fraction of the time. Throws on
 * anything that is not little- or big-endian BTF it can walk.
 */
export function subsetBtf(btf: Buffer, identifiers: ReadonlySet<string>): Buffer {
  const littleEndian = btf.readUInt16LE(0) === 0xeb9f;
  if (!littleEndian && btf.readUInt16BE(0) !== 0xeb9f) throw new Error('not BTF (no 0xeb9f magic)');
  const u32 = (offset: number) => (littleEndian ? btf.readUInt32LE(offset) : btf.readUInt32BE(offset));
  const headerLength = u32(4);
  const typesStart = headerLength + u32(8);
  const typesEnd = typesStart + u32(12);
  const stringsStart = headerLength + u32(16);
  const stringsEnd = stringsStart + u32(20);
  if (headerLength < HEADER_BYTES || typesEnd > btf.length || stringsEnd > btf.length) throw new Error('the BTF header points outside the data');
  const wanted = identifierOffsets(btf, stringsStart, stringsEnd, identifiers);

  // One record per type id (0 is void), as parallel arrays: where it starts in the type section, its kind, vlen and name.
  const capacity = Math.floor((typesEnd - typesStart) / 12) + 1;
  const starts = new Uint32Array(capacity);
  const kinds = new Uint8Array(capacity);
  const vlens = new Uint16Array(capacity);
  const nameOffs = new Uint32Array(capacity);
  let count = 1;
  for (let at = typesStart; at < typesEnd; count++) {
    const info = u32(at + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const extra = trailingBytes(kind, vlen);
    if (extra === undefined) throw new Error(`BTF kind ${kind} is not known here`);
    starts[count] = at;
    kinds[count] = kind;
    vlens[count] = vlen;
    nameOffs[count] = u32(at);
    at += 12 + extra;
  }
  const recordLength = (id: number) => 12 + (trailingBytes(kinds[id], vlens[id]) as number);

  /** The type ids a type refers to, each with whether the member it is reached through is named by an identifier. */
  const references = (id: number): { type: number; member: boolean }[] => {
    const t = { kind: kinds[id], vlen: vlens[id] };
    const at = starts[id];
    if (REFERS.has(t.kind) && t.kind !== KIND.funcProto) return [{ type: u32(at + 8), member: false }];
    if (t.kind === KIND.array) return [{ type: u32(at + 12), member: false }, { type: u32(at + 16), member: false }];
    if (t.kind === KIND.struct || t.kind === KIND.union) return Array.from({ length: t.vlen }, (_, i) => ({ type: u32(at + 12 + i * 12 + 4), member: wanted[u32(at + 12 + i * 12)] === 1 }));
    if (t.kind === KIND.funcProto) return [{ type: u32(at + 8), member: false }, ...Array.from({ length: t.vlen }, (_, i) => ({ type: u32(at + 12 + i * 8 + 4), member: false }))];
    return [];
  };

  const keep = new Map<number, Keep>();
  // [type, behind a pointer, that pointer followed by an identifier (a member name the probe uses)]
  const work: [number, boolean, boolean][] = [];
  const named = (id: number) => nameOffs[id] !== 0 && wanted[nameOffs[id]] === 1;
  for (let id = 1; id < count; id++) {
    const kind = kinds[id];
    if (kind === KIND.func || kind === KIND.variable || kind === KIND.datasec || kind === KIND.declTag) continue;
    let root = named(id);
    if (!root && (kind === KIND.enum || kind === KIND.enum64)) {
      const step = kind === KIND.enum ? 8 : 12;
      for (let i = 0; i < vlens[id] && !root; i++) root = wanted[u32(starts[id] + 12 + i * step)] === 1;
    }
    if (root) work.push([id, false, true]);
  }
  while (work.length) {
    const [id, behindPointer, followed] = work.pop() as [number, boolean, boolean];
    if (id === 0 || keep.get(id) === 'full') continue;
    const kind = kinds[id];
    const record = kind === KIND.struct || kind === KIND.union;
    if (record && behindPointer && !followed && nameOffs[id] !== 0 && !named(id)) {
      if (!keep.has(id)) keep.set(id, 'forward');
      continue;
    }
    keep.set(id, 'full');
    for (const ref of references(id)) {
      if (record) work.push([ref.type, false, ref.member]);
      else if (kind === KIND.ptr) work.push([ref.type, true, followed]);
      else work.push([ref.type, kind === KIND.funcProto ? false : behindPointer, kind === KIND.funcProto ? false : followed]);
    }
  }

  // Ids renumbered in their original order, so bpftool names duplicates (name___2) as it would in the whole header.
  const kept = [...keep.keys()].sort((a, b) => a - b);
  const newId = new Map(kept.map((id, i) => [id, i + 1]));
  const remap = (id: number) => (id === 0 ? 0 : (newId.get(id) ?? 0));
  const records: Buffer[] = [];
  for (const id of kept) {
    const t = { kind: kinds[id], vlen: vlens[id] };
    if (keep.get(id) === 'forward') {
      const fwd = Buffer.alloc(12);
      write32(fwd, 0, nameOffs[id], littleEndian);
      write32(fwd, 4, ((KIND.fwd << 24) | (t.kind === KIND.union ? 0x80000000 : 0)) >>> 0, littleEndian);
      records.push(fwd);
      continue;
    }
    const copy = Buffer.from(btf.subarray(starts[id], starts[id] + recordLength(id)));
    const fix = (offset: number) => write32(copy, offset, remap(littleEndian ? copy.readUInt32LE(offset) : copy.readUInt32BE(offset)), littleEndian);
    if (REFERS.has(t.kind)) fix(8);
    if (t.kind === KIND.array) [12, 16].forEach(fix);
    if (t.kind === KIND.struct || t.kind === KIND.union) for (let i = 0; i < t.vlen; i++) fix(12 + i * 12 + 4);
    if (t.kind === KIND.funcProto) for (let i = 0; i < t.vlen; i++) fix(12 + i * 8 + 4);
    records.push(copy);
  }
  const typeSection = Buffer.concat(records);
  const header = Buffer.from(btf.subarray(0, headerLength));
  const strings = btf.subarray(stringsStart, stringsEnd);
  write32(header, 8, 0, littleEndian);
  write32(header, 12, typeSection.length, littleEndian);
  write32(header, 16, typeSection.length, littleEndian);
  write32(header, 20, strings.length, littleEndian);
  return Buffer.concat([header, typeSection, strings]);
}

/**
 * Marks the string offsets (relative to the string section) whose string is one of `identifiers`: the strings are hashed
 * byte by byte (FNV-1a) and only a hash that an identifier has too is compared as text.
 */
function identifierOffsets(btf: Buffer, start: number, end: number, identifiers: ReadonlySet<string>): Uint8Array {
  const fnv = (text: string) => {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ (text.charCodeAt(i) & 0xff), 0x01000193);
    return hash >>> 0;
  };
  const hashes = new Set([...identifiers].map(fnv));
  const wanted = new Uint8Array(end - start + 1);
  let hash = 0x811c9dc5;
  let from = start;
  for (let i = start; i < end; i++) {
    const byte = btf[i];
    if (byte !== 0) {
      hash = Math.imul(hash ^ byte, 0x01000193);
      continue;
    }
    if (i > from && hashes.has(hash >>> 0) && identifiers.has(btf.toString('latin1', from, i))) wanted[from - start] = 1;
    hash = 0x811c9dc5;
    from = i + 1;
  }
  return wanted;
}

function write32(buffer: Buffer, offset: number, value: number, littleEndian: boolean): void {
  if (littleEndian) buffer.writeUInt32LE(value, offset);
  else buffer.writeUInt32BE(value, offset);
}

/** Bytes after the 12-byte common record, by kind; undefined for a kind this file does not know. */
function trailingBytes(kind: number, vlen: number): number | undefined {
  switch (kind) {
    case KIND.int:
    case KIND.variable:
    case KIND.declTag:
      return 4;
    case KIND.ptr:
    case KIND.fwd:
    case KIND.typedef:
    case KIND.volatile:
    case KIND.const:
    case KIND.restrict:
    case KIND.func:
    case KIND.float:
    case KIND.typeTag:
      return 0;
    case KIND.array:
      return 12;
    case KIND.struct:
    case KIND.union:
    case KIND.datasec:
    case KIND.enum64:
      return vlen * 12;
    case KIND.enum:
    case KIND.funcProto:
      return vlen * 8;
    default:
      return undefined;
  }
}
