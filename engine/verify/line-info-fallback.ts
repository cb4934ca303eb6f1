// Finds the source line of a program's instruction from the object's own BTF line_info (.BTF.ext), for logs
// the kernel did not annotate. Talks to nothing; reads the ELF symbol table, .BTF strings and .BTF.ext.

export interface LineInfoLocation {
  file: string;
  /** 1-based. */
  line: number;
}

interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
}

const SHT_SYMTAB = 2;

function cString(bytes: Uint8Array, start: number): string {
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}

function elfSections(object: Uint8Array, dv: DataView): ElfSection[] | undefined {
  if (object.length < 64 || object[0] !== 0x7f || object[1] !== 0x45 || object[4] !== 2) return undefined;
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);
  const shstrndx = dv.getUint16(0x3e, true);
  if (shoff + shnum * shentsize > object.length) return undefined;
  const raw = Array.from({ length: shnum }, (_, i) => {
    const b = shoff + i * shentsize;
    return { nameOff: dv.getUint32(b, true), type: dv.getUint32(b + 4, true), offset: Number(dv.getBigUint64(b + 24, true)), size: Number(dv.getBigUint64(b + 32, true)), link: dv.getUint32(b + 40, true) };
  });
  const names = raw[shstrndx];
  return raw.map((s) => ({ ...s, name: cString(object, names.offset + s.nameOff) }));
}

/** Byte offset of a function within its ELF section, and that section's name. */
function functionLocation(object: Uint8Array, dv: DataView, sections: ElfSection[], name: string): { section: string; offset: number } | undefined {
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return undefined;
  const strtab = sections[symtab.link];
  for (let p = symtab.offset; p + 24 <= symtab.offset + symtab.size; p += 24) {
    const shndx = dv.getUint16(p + 6, true);
    if (shndx === 0 || shndx >= sections.length) continue;
    if (cString(object, strtab.offset + dv.getUint32(p, true)) !== name) continue;
    return { section: sections[shndx].name, offset: Number(dv.getBigUint64(p + 8, true)) };
  }
  return undefined;
}

/** The line_info entry at or before instruction `insn` of program `name` (main body only; subprograms are appended by libbpf). */
export function lineInfoFallback(object: Uint8Array, _section: string, name: string, insn: number): LineInfoLocation | undefined {
  const dv = new DataView(object.buffer, object.byteOffset, object.byteLength);
  const sections = elfSections(object, dv);
  const btf = sections?.find((s) => s.name === '.BTF');
  const ext = sections?.find((s) => s.name === '.BTF.ext');
  if (!sections || !btf || !ext) return undefined;
  const fn = functionLocation(object, dv, sections, name);
  if (!fn) return undefined;
  const strings = btf.offset + dv.getUint32(btf.offset + 4, true) + dv.getUint32(btf.offset + 16, true);
  const extHeader = dv.getUint32(ext.offset + 4, true);
  const lineInfoStart = ext.offset + extHeader + dv.getUint32(ext.offset + 16, true);
  const lineInfoEnd = lineInfoStart + dv.getUint32(ext.offset + 20, true);
  const recordSize = dv.getUint32(lineInfoStart, true);
  const target = fn.offset + insn * 8;
  let best: LineInfoLocation | undefined;
  for (let p = lineInfoStart + 4; p + 8 <= lineInfoEnd; ) {
    const sectionName = cString(object, strings + dv.getUint32(p, true));
    const count = dv.getUint32(p + 4, true);
    p += 8;
    for (let i = 0; i < count; i++, p += recordSize) {
      if (sectionName !== fn.section) continue;
      const insnOff = dv.getUint32(p, true);
      if (insnOff < fn.offset || insnOff > target) continue;
      best = { file: cString(object, strings + dv.getUint32(p + 4, true)), line: dv.getUint32(p + 12, true) >>> 10 };
    }
  }
  return best;
}
