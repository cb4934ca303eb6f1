// Makes a target's BTF safe to turn into vmlinux.h: every byte of its string section outside what kernel type names
// use ([A-Za-z0-9_], space, '.', '(' and ')') becomes '_', in place, so no name can add a line, a directive or a comment.

const BTF_MAGIC = 0xeb9f;
const HEADER_BYTES = 24;
const NAME_BYTE = /[A-Za-z0-9_ .()]/;
const ALLOWED = new Uint8Array(256).map((_, byte) => (byte === 0 || NAME_BYTE.test(String.fromCharCode(byte)) ? 1 : 0));

/** A copy of `btf` with its names sanitized and how many bytes were replaced; throws when it is not BTF. */
export function sanitizeBtfNames(btf: Buffer): { btf: Buffer; replaced: number } {
  if (btf.length < HEADER_BYTES) throw new Error(`the BTF is ${btf.length} bytes, shorter than its header`);
  const littleEndian = btf.readUInt16LE(0) === BTF_MAGIC;
  if (!littleEndian && btf.readUInt16BE(0) !== BTF_MAGIC) throw new Error('the data is not BTF (no 0xeb9f magic)');
  const u32 = (offset: number) => (littleEndian ? btf.readUInt32LE(offset) : btf.readUInt32BE(offset));
  const headerLength = u32(4);
  const stringsStart = headerLength + u32(16);
  const stringsEnd = stringsStart + u32(20);
  if (headerLength < HEADER_BYTES || stringsEnd > btf.length || stringsStart > stringsEnd) throw new Error('the BTF header points outside the data');
  const copy = Buffer.from(btf);
  let replaced = 0;
  for (let i = stringsStart; i < stringsEnd; i++) {
    if (!ALLOWED[copy[i]]) {
      copy[i] = 0x5f;
      replaced++;
    }
  }
  return { btf: copy, replaced };
}
