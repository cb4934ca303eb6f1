// Stack-trace map values as frames: the u64 instruction pointers of a BPF_MAP_TYPE_STACK_TRACE value (zero-padded),
// kernel ones named from /proc/kallsyms text as function+0xoffset, others left as hex. Pure; callers supply the text.

/** Kernel addresses live in the upper half of the address space (x86_64, arm64). */
const KERNEL_START = 0xffff_8000_0000_0000n;

export class KernelSymbols {
  private constructor(private readonly addresses: BigUint64Array, private readonly names: string[]) {}

  /** From /proc/kallsyms text; undefined when it hides the addresses (all zero: kptr_restrict, not root). */
  static parse(text: string): KernelSymbols | undefined {
    const entries: { address: bigint; name: string }[] = [];
    for (const line of text.split('\n')) {
      const [hex, type, name] = line.split(/\s+/, 3);
      if (!name || !/^[tTwW]$/.test(type)) continue;
      const address = BigInt(`0x${hex}`);
      if (address !== 0n) entries.push({ address, name });
    }
    if (entries.length === 0) return undefined;
    entries.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    return new KernelSymbols(BigUint64Array.from(entries.map((e) => e.address)), entries.map((e) => e.name));
  }

  /** `function+0xoffset` for a kernel text address, or undefined below the first symbol. */
  name(address: bigint): string | undefined {
    let lo = 0;
    let hi = this.addresses.length - 1;
    if (hi < 0 || address < this.addresses[0]) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.addresses[mid] <= address) lo = mid;
      else hi = mid - 1;
    }
    return `${this.names[lo]}+0x${(address - this.addresses[lo]).toString(16)}`;
  }
}

/** The frames of one stack-trace value (little-endian u64s up to the first zero), named where possible. */
export function stackFrames(value: Uint8Array, kernel: KernelSymbols | undefined): string[] {
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const frames: string[] = [];
  for (let off = 0; off + 8 <= value.byteLength; off += 8) {
    const ip = dv.getBigUint64(off, true);
    if (ip === 0n) break;
    frames.push((ip >= KERNEL_START ? kernel?.name(ip) : undefined) ?? `0x${ip.toString(16)}`);
  }
  return frames;
}
