// Function symbols of an ELF file (.symtab and .dynsym) and its loadable segments, so that a file offset a process
// has mapped can be named `function+0xoffset`. Reads only the headers and symbol tables of the file (64-bit ELF).
import { closeSync, openSync, readSync } from 'node:fs';

interface Segment { offset: number; size: number; vaddr: number }

const ELF_MAGIC = 0x464c457f;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
/** A symbol or string table larger than this is not read (a corrupt header, or a file that is not worth it). */
const MAX_TABLE_BYTES = 256 * 1024 * 1024;

/** `length` bytes of the file at `position` (fewer at its end). */
type ReadAt = (position: number, length: number) => Buffer;

export class ElfSymbols {
  private constructor(
    private readonly segments: Segment[],
    private readonly starts: Float64Array,
    private readonly sizes: Float64Array,
    private readonly names: string[],
  ) {}

  /** Reads the file at `path`; undefined when it cannot be read or is not a 64-bit ELF file. */
  static read(path: string): ElfSymbols | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined;
    }
    try {
      return ElfSymbols.parse((position, length) => {
        const buf = Buffer.alloc(length);
        return buf.subarray(0, readSync(fd, buf, 0, length, position));
      });
    } finally {
      closeSync(fd);
    }
  }

  /** Parses through `readAt`; undefined for anything but a 64-bit ELF file (or a truncated one). */
  static parse(readAt: ReadAt): ElfSymbols | undefined {
    const header = readAt(0, 64);
    if (header.length < 64 || header.readUInt32LE(0) !== ELF_MAGIC || header[4] !== 2) return undefined;
    const le = header[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    try {
      const segments: Segment[] = [];
      const phentsize = u16(header, 0x36);
      const phdrs = readAt(u64(header, 0x20), u16(header, 0x38) * phentsize);
      for (let p = 0; p + 48 <= phdrs.length; p += phentsize) {
        if (u32(phdrs, p) === PT_LOAD) segments.push({ offset: u64(phdrs, p + 8), vaddr: u64(phdrs, p + 16), size: u64(phdrs, p + 32) });
      }
      const shentsize = u16(header, 0x3a);
      const shdrs = readAt(u64(header, 0x28), u16(header, 0x3c) * shentsize);
      const section = (i: number) => {
        const s = i * shentsize;
        return { type: u32(shdrs, s + 4), offset: u64(shdrs, s + 24), size: u64(shdrs, s + 32), link: u32(shdrs, s + 40), entsize: u64(shdrs, s + 56) };
      };
      const symbols = new Map<number, { size: number; name: string }>();
      for (let i = 0; (i + 1) * shentsize <= shdrs.length; i++) {
        const table = section(i);
        if ((table.type !== SHT_SYMTAB && table.type !== SHT_DYNSYM) || table.entsize < 24 || table.size > MAX_TABLE_BYTES) continue;
        const stringsHeader = section(table.link);
        if (stringsHeader.size > MAX_TABLE_BYTES) continue;
        const entries = readAt(table.offset, table.size);
        const strings = readAt(stringsHeader.offset, stringsHeader.size);
        for (let s = 0; s + 24 <= entries.length; s += table.entsize) {
          const kind = entries[s + 4] & 0xf;
          const value = u64(entries, s + 8);
          if ((kind !== STT_FUNC && kind !== STT_GNU_IFUNC) || value === 0 || symbols.has(value)) continue;
          const start = u32(entries, s);
          const end = strings.indexOf(0, start);
          symbols.set(value, { size: u64(entries, s + 16), name: strings.toString('latin1', start, end < 0 ? strings.length : end) });
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
