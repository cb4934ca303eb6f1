// Regenerates engine/templates/syscall-numbers.json (syscall name → number for x86_64 and aarch64) from the
// kernel's UAPI headers installed by linux-libc-dev, through clang's preprocessor. Run: npx tsx scripts/generate-syscall-numbers.ts
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CLANG = process.env.CLANG ?? 'clang-19';
const MULTIARCH_INCLUDE = '/usr/include/x86_64-linux-gnu';

/** The options arch/arm64/include/uapi/asm/unistd.h sets before including the generic table. */
const ARM64_PRELUDE = [
  '#define __BITS_PER_LONG 64',
  '#define __ARCH_WANT_RENAMEAT',
  '#define __ARCH_WANT_NEW_STAT',
  '#define __ARCH_WANT_SET_GET_RLIMIT',
  '#define __ARCH_WANT_SYS_CLONE3',
  '#define __ARCH_WANT_MEMFD_SECRET',
  '#include <asm-generic/unistd.h>',
].join('\n');

function macroDefinitions(source: string): Map<string, string> {
  const out = execFileSync(CLANG, ['-E', '-dM', `-I${MULTIARCH_INCLUDE}`, '-'], { input: `${source}\n`, encoding: 'utf8' });
  const macros = new Map<string, string>();
  for (const line of out.split('\n')) {
    const match = /^#define (__NR\w*) (.+)$/.exec(line);
    if (match) macros.set(match[1], match[2].trim());
  }
  return macros;
}

function syscallTable(macros: Map<string, string>): Record<string, number> {
  const resolve = (value: string, depth = 0): number | undefined => {
    if (/^\d+$/.test(value)) return Number(value);
    const next = macros.get(value);
    return next !== undefined && depth < 8 ? resolve(next, depth + 1) : undefined;
  };
  const table: Record<string, number> = {};
  for (const [name, value] of macros) {
    if (!name.startsWith('__NR_') || name === '__NR_syscalls' || name === '__NR_arch_specific_syscall') continue;
    const number = resolve(value);
    if (number !== undefined) table[name.slice('__NR_'.length)] = number;
  }
  return Object.fromEntries(Object.entries(table).sort(([, a], [, b]) => a - b));
}

const tables = {
  x86_64: syscallTable(macroDefinitions('#include <asm/unistd_64.h>')),
  aarch64: syscallTable(macroDefinitions(ARM64_PRELUDE)),
};
const path = join(__dirname, '..', 'engine', 'templates', 'syscall-numbers.json');
writeFileSync(path, `${JSON.stringify(tables, null, 1)}\n`);
console.log(`wrote ${path}: x86_64 ${Object.keys(tables.x86_64).length}, aarch64 ${Object.keys(tables.aarch64).length} syscalls`);
