// Function symbols of an ELF file (.symtab and .dynsym) and its loadable segments, so that a file offset a
// process has mapped can be named `function+0xoffset`. Pure parsing of the file's bytes (64-bit ELF).

interface Segment { offset: number; size: number; vaddr: number }

const ELF_MAGIC = 0x464c457f;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

export class ElfSymbols {
  private constructor(
    private readonly segments: Segment[],
    private readonly starts: Float64Array,
    private readonly sizes: Float64Array,
    private readonly names: string[],
  ) {}

  /** Parses a 64-bit ELF file's bytes; undefined for anything else (32-bit, not ELF, truncated). */
  static parse(bytes: Buffer): ElfSymbols | undefined {
    if (bytes.length < 64 || bytes.readUInt32LE(0) !== ELF_MAGIC || bytes[4] !== 2) return undefined;
    const le = bytes[5] === 1;
    const u16 = (o: number) => (le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o));
    const u32 = (o: number) => (le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
    const u64 = (o: number) => Number(le ? bytes.readBigUInt64LE(o) : bytes.readBigUInt64BE(o));
    try {
      const segments: Segment[] = [];
      const phoff = u64(0x20);
      for (let i = 0, n = u16(0x38), size = u16(0x36); i < n; i++) {
        const p = phoff + i * size;
        if (u32(p) === PT_LOAD) segments.push({ offset: u64(p + 8), vaddr: u64(p + 16), size: u64(p + 32) });
      }
      const symbols = new Map<number, { size: number; name: string }>();
      const shoff = u64(0x28);
      const shentsize = u16(0x3a);
      const section = (i: number) => {
        const s = shoff + i * shentsize;
        return { type: u32(s + 4), offset: u64(s + 24), size: u64(s + 32), link: u32(s + 40), entsize: u64(s + 56) };
      };
      for (let i = 0, n = u16(0x3c); i < n; i++) {
        const table = section(i);
        if ((table.type !== SHT_SYMTAB && table.type !== SHT_DYNSYM) || table.entsize < 24) continue;
        const strings = section(table.link);
        for (let s = table.offset; s + 24 <= table.offset + table.size; s += table.entsize) {
          const kind = bytes[s + 4] & 0xf;
          const value = u64(s + 8);
          if ((kind !== STT_FUNC && kind !== STT_GNU_IFUNC) || value === 0 || symbols.has(value)) continue;
          const start = strings.offset + u32(s);
          const end = bytes.indexOf(0, start);
          symbols.set(value, { size: u64(s + 16), name: bytes.toString('latin1', start, end < 0 ? strings.offset + strings.size : end) });
        }
      }
      const starts = Float64Array.from(symbols.keys()).sort();
      return new ElfSymbols(segments, starts, Float64Array.from(starts, (a) => symbols.get(a)!.size), Array.from(starts, (a) => symbols.get(a)!.name));
    } catch {
      return undefined;
    }
  }

  /** `function+0xoffset` for a byte offset of the file (as a mapping of it says), or undefined outside any function. */
  nameAtFileOffset(fileOffset: number): string | undefined {
    const segment = this.segments.find((s) => fileOffset >= s.offset && fileOffset < s.offset + s.size);
    if (!segment) return undefined;
    const address = fileOffset - segment.offset + segment.vaddr;
    let lo = 0;
    let hi = this.starts.length - 1;
    if (hi < 0 || address < this.starts[0]) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= address) lo = mid;
      else hi = mid - 1;
    }
    const offset = address - this.starts[lo];
    if (this.sizes[lo] > 0 && offset >= this.sizes[lo]) return undefined;
    return `${this.names[lo]}+0x${offset.toString(16)}`;
  }
}
