// Stack-trace map values as frames: the u64 instruction pointers of a BPF_MAP_TYPE_STACK_TRACE value (zero-padded),
// kernel ones named from /proc/kallsyms text as function+0xoffset, user ones from names the caller got for them
// (the agent's userSymbols), others left as hex. Pure; callers supply the text and the names.

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

/** The instruction pointers of one stack-trace value: little-endian u64s up to the first zero. */
export function stackAddresses(value: Uint8Array): bigint[] {
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const ips: bigint[] = [];
  for (let off = 0; off + 8 <= value.byteLength; off += 8) {
    const ip = dv.getBigUint64(off, true);
    if (ip === 0n) break;
    ips.push(ip);
  }
  return ips;
}

export const isKernelAddress = (ip: bigint) => ip >= KERNEL_START;

export const hexAddress = (ip: bigint) => `0x${ip.toString(16)}`;

/**
 * The frames of one stack-trace value, named where possible: kernel ones from kallsyms, user ones from `user`
 * (hex address → name, as the agent's userSymbols names them for the stack's process); others stay hex.
 */
export function stackFrames(value: Uint8Array, kernel: KernelSymbols | undefined, user?: ReadonlyMap<string, string>): string[] {
  return stackAddresses(value).map((ip) => (isKernelAddress(ip) ? kernel?.name(ip) : user?.get(hexAddress(ip))) ?? hexAddress(ip));
}
