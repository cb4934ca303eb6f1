// Reads named sections out of an ELF64 object (a compiled BPF probe), e.g. its raw .BTF bytes.
// Talks to nothing; takes and returns bytes.

export class ElfError extends Error {}

/** Returns the bytes of the named section, or undefined when the object has no such section. */
export function elfSection(object: Uint8Array, sectionName: string): Uint8Array | undefined {
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
  const header = (i: number) => {
    const base = shoff + i * shentsize;
    return { nameOff: dv.getUint32(base, le), type: dv.getUint32(base + 4, le), offset: u64(base + 24), size: u64(base + 32) };
  };
  const names = header(shstrndx);
  const decoder = new TextDecoder();
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const start = names.offset + h.nameOff;
    let end = start;
    while (end < object.byteLength && object[end] !== 0) end++;
    if (decoder.decode(object.subarray(start, end)) !== sectionName) continue;
    const NOBITS = 8;
    if (h.type === NOBITS) return new Uint8Array(h.size);
    if (h.offset + h.size > object.byteLength) throw new ElfError(`section ${sectionName} runs past the end of the file`);
    return object.subarray(h.offset, h.offset + h.size);
  }
  return undefined;
}
