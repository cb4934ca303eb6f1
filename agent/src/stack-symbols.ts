// The `stackSymbols` method: names stack addresses, kernel ones from kallsyms, user ones of a process from /proc/<pid>/maps
// and the ELF symbols of the mapped files (read through /proc/<pid>/root). Talks to procfs and the file system.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { StackSymbolsParams, StackSymbolsResult } from '../../protocol/agent-rpc';
import { ElfSymbols } from './elf-symbols';
import { kernelSymbols } from './kernel-symbols';

/** Kernel addresses live in the upper half of the address space (x86_64, arm64). */
const KERNEL_START = 0xffff_8000_0000_0000n;

interface Mapping { start: number; end: number; offset: number; file: string; inode: string }

/** Parsed files by device:inode (the same libc serves every process); undefined: not ELF or unreadable. */
const files = new Map<string, ElfSymbols | undefined>();
const MAX_CACHED_FILES = 256;

function mappingsOf(pid: number): Mapping[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return undefined;
  }
  const mappings: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) (\S+) (\d+)\s+(\/.*)$/.exec(line);
    if (!m || m[5] === '0') continue;
    mappings.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), offset: parseInt(m[3], 16), inode: `${m[4]}:${m[5]}`, file: m[6].replace(/ \(deleted\)$/, '') });
  }
  return mappings;
}

function symbolsOf(pid: number, mapping: Mapping): ElfSymbols | undefined {
  if (files.has(mapping.inode)) return files.get(mapping.inode);
  const symbols = ElfSymbols.read(`/proc/${pid}/root${mapping.file}`);
  if (files.size >= MAX_CACHED_FILES) files.delete(files.keys().next().value as string);
  files.set(mapping.inode, symbols);
  return symbols;
}

/** A user address of the process with these mappings as `function+0xoffset (file)`, `0xaddress (file)` or itself. */
function userFrame(pid: number, mappings: Mapping[], hex: string): string {
  const address = parseInt(hex, 16);
  const mapping = mappings.find((m) => address >= m.start && address < m.end);
  if (!mapping) return hex;
  const name = symbolsOf(pid, mapping)?.nameAtFileOffset(address - mapping.start + mapping.offset);
  return `${name ?? hex} (${basename(mapping.file)})`;
}

/**
 * Each address named: kernel ones `function+0xoffset` (kallsyms), user ones as userFrame says for `pid`; an
 * address that cannot be named stays as it is, and the note says why when a whole kind could not be.
 */
export function stackSymbols(params: StackSymbolsParams): StackSymbolsResult {
  const kernel = kernelSymbols();
  const mappings = params.pid === undefined ? undefined : mappingsOf(params.pid);
  const notes = new Set<string>();
  const frames = params.addresses.map((hex) => {
    const address = BigInt(hex);
    if (address >= KERNEL_START) {
      if (!kernel) notes.add('/proc/kallsyms hides kernel addresses here (not root, or kptr_restrict): kernel frames stay addresses');
      return kernel?.name(address) ?? hex;
    }
    if (params.pid === undefined) return hex;
    if (!mappings) {
      notes.add(`process ${params.pid} has exited (or cannot be read): its frames stay addresses`);
      return hex;
    }
    return userFrame(params.pid, mappings, hex);
  });
  return notes.size ? { frames, note: [...notes].join('; ') } : { frames };
}
