// Reads named sections out of an ELF64 object (a compiled BPF probe), e.g. its raw .BTF bytes.
// Talks to nothing; takes and returns bytes.

export class ElfError extends Error {}

interface SectionHeader { name: string; type: number; offset: number; size: number; link: number }

/** The section headers of an ELF64 object, named. */
function sectionHeaders(object: Uint8Array): { headers: SectionHeader[]; dv: DataView; le: boolean } {
  if (object.byteLength < 64 || object[0] !== 0x7f || object[1] !== 0x45 || object[2] !== 0x4c || object[3] !== 0x46) {
    throw new ElfError('not an ELF file');
  }
  if (object[4] !== 2) throw new ElfError('not a 64-bit ELF object (BPF objects are ELF64)');
  const le = object[5] === 1;
  const dv = new DataView(object.buffer, object.byteOffset, object.byteLength);
  const u64 = (o: number) => Number(dv.getBigUint64(o, le));
  const shoff = u64(0x28);
  const shentsize = dv.getUint16(0x3a, le);
  const shnum = dv.getUint16(0x3c, le);
  const shstrndx = dv.getUint16(0x3e, le);
  if (shoff + shnum * shentsize > object.byteLength || shstrndx >= shnum) throw new ElfError('ELF section headers out of range');
  const raw = Array.from({ length: shnum }, (_, i) => {
    const base = shoff + i * shentsize;
    return { nameOff: dv.getUint32(base, le), type: dv.getUint32(base + 4, le), offset: u64(base + 24), size: u64(base + 32), link: dv.getUint32(base + 40, le) };
  });
  const names = raw[shstrndx];
  const headers = raw.map((h) => ({ name: cString(object, names.offset + h.nameOff), type: h.type, offset: h.offset, size: h.size, link: h.link }));
  return { headers, dv, le };
}

const decoder = new TextDecoder();

function cString(object: Uint8Array, start: number): string {
  let end = start;
  while (end < object.byteLength && object[end] !== 0) end++;
  return decoder.decode(object.subarray(start, end));
}

/** Returns the bytes of the named section, or undefined when the object has no such section. */
export function elfSection(object: Uint8Array, sectionName: string): Uint8Array | undefined {
  const h = sectionHeaders(object).headers.find((x) => x.name === sectionName);
  if (!h) return undefined;
  const NOBITS = 8;
  if (h.type === NOBITS) return new Uint8Array(h.size);
  if (h.offset + h.size > object.byteLength) throw new ElfError(`section ${sectionName} runs past the end of the file`);
  return object.subarray(h.offset, h.offset + h.size);
}

/**
 * The symbols defined in the named section, by name, with their offset and size in it: where each global sits in
 * .rodata (clang leaves those offsets out of BTF's DATASEC; libbpf fills them in from here when it opens the object).
 */
export function elfSectionSymbols(object: Uint8Array, sectionName: string): Map<string, { offset: number; size: number }> {
  const { headers, dv, le } = sectionHeaders(object);
  const index = headers.findIndex((x) => x.name === sectionName);
  const SYMTAB = 2;
  const symtab = headers.find((x) => x.type === SYMTAB);
  const found = new Map<string, { offset: number; size: number }>();
  if (index < 0 || !symtab || symtab.offset + symtab.size > object.byteLength) return found;
  const strings = headers[symtab.link];
  const ENTRY = 24;
  for (let at = symtab.offset; at + ENTRY <= symtab.offset + symtab.size; at += ENTRY) {
    if (dv.getUint16(at + 6, le) !== index) continue;
    const name = cString(object, strings.offset + dv.getUint32(at, le));
    if (name) found.set(name, { offset: Number(dv.getBigUint64(at + 8, le)), size: Number(dv.getBigUint64(at + 16, le)) });
  }
  return found;
}
