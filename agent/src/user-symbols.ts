// The `userSymbols` method: names user-space stack addresses of a process from its mappings (/proc/<pid>/maps)
// and the ELF symbols of each mapped file, read through /proc/<pid>/root. Talks to procfs and the file system.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { UserSymbolsParams, UserSymbolsResult } from '../../protocol/agent-rpc';
import { ElfSymbols } from './elf-symbols';

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
  let symbols: ElfSymbols | undefined;
  try {
    symbols = ElfSymbols.parse(readFileSync(`/proc/${pid}/root${mapping.file}`));
  } catch {
    symbols = undefined;
  }
  if (files.size >= MAX_CACHED_FILES) files.delete(files.keys().next().value as string);
  files.set(mapping.inode, symbols);
  return symbols;
}

/**
 * Each address as `function+0xoffset (file)`, `0xaddress (file)` when the file has no symbol there, or
 * `0xaddress` outside any file mapping; all stay addresses when the process is gone.
 */
export function userSymbols(params: UserSymbolsParams): UserSymbolsResult {
  const mappings = mappingsOf(params.pid);
  if (!mappings) return { frames: params.addresses, note: `process ${params.pid} has exited (or cannot be read): its frames stay addresses` };
  const frames = params.addresses.map((hex) => {
    const address = parseInt(hex, 16);
    const mapping = mappings.find((m) => address >= m.start && address < m.end);
    if (!mapping) return hex;
    const name = symbolsOf(params.pid, mapping)?.nameAtFileOffset(address - mapping.start + mapping.offset);
    return `${name ?? hex} (${basename(mapping.file)})`;
  });
  return { frames };
}
