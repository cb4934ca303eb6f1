// The compile command clangd should use for a probe: the user's own compile_commands.json when one governs the
// file and lists it (clangd's discovery: nearest folder, or its build/), else eBPF Studio's flags. Reads files.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface CompileCommand {
  workingDirectory: string;
  compilationCommand: string[];
}

/** The compile_commands.json clangd would find for `file` (the nearest folder up that has one, or its build/). */
export function governingCompilationDatabase(file: string): string | undefined {
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    for (const candidate of [join(dir, 'compile_commands.json'), join(dir, 'build', 'compile_commands.json')]) {
      if (existsSync(candidate)) return candidate;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Whether a compile_commands.json has an entry for `file`; an unreadable or malformed one lists nothing. */
export function databaseLists(database: string, file: string): boolean {
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(database, 'utf8'));
  } catch {
    return false;
  }
  const wanted = resolve(file);
  return Array.isArray(entries) && entries.some((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return false;
    const { file: entryFile, directory } = entry as { file?: unknown; directory?: unknown };
    return typeof entryFile === 'string' && resolve(typeof directory === 'string' ? directory : dirname(database), entryFile) === wanted;
  });
}

/** The command eBPF Studio compiles `file` with, as clangd takes it (driver first, `-c file` last). */
export function probeCompileCommand(file: string, clangPath: string, flags: string[]): CompileCommand {
  const path = resolve(file);
  return { workingDirectory: dirname(path), compilationCommand: [clangPath, ...flags, '-c', path] };
}
