// Kernel text symbols of this machine from /proc/kallsyms (read once), to name kernel stack addresses
// function+0xoffset; none when kallsyms hides the addresses (kptr_restrict, not root). Talks to procfs.
import { readFileSync } from 'node:fs';

export class KernelSymbols {
  private constructor(private readonly addresses: BigUint64Array, private readonly names: string[]) {}

  /** From /proc/kallsyms text; undefined when it hides the addresses (all zero). */
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

let loaded: { symbols: KernelSymbols | undefined } | undefined;

/** This machine's kernel symbols, parsed on first use; undefined when kallsyms cannot be read or hides them. */
export function kernelSymbols(): KernelSymbols | undefined {
  if (!loaded) {
    let text = '';
    try {
      text = readFileSync('/proc/kallsyms', 'utf8');
    } catch {
      // no procfs or not allowed: kernel frames stay addresses
    }
    loaded = { symbols: KernelSymbols.parse(text) };
  }
  return loaded.symbols;
}
