// Stack-trace map values as frames: the u64 instruction pointers of a BPF_MAP_TYPE_STACK_TRACE value (zero-padded),
// named from what the target's agent said for them (stackSymbols), others left as hex. Pure.

/** Kernel addresses live in the upper half of the address space (x86_64, arm64). */
const KERNEL_START = 0xffff_8000_0000_0000n;

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

/** The frames of one stack-trace value: each address's name from `names` (hex address → name), else hex. */
export function stackFrames(value: Uint8Array, names: ReadonlyMap<string, string>): string[] {
  return stackAddresses(value).map((ip) => names.get(hexAddress(ip)) ?? hexAddress(ip));
}
