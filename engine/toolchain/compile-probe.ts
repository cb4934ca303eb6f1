// Compiles one probe with clang (-g -O2 -target bpf -D__TARGET_ARCH_<arch>, the user's include paths, the
// multiarch folder, vmlinux.h's folder) into object bytes, and clang's messages into diagnostics per file.
import { execFile } from 'node:child_process';
import { basename, dirname, resolve } from 'node:path';
import { parseClangDiagnostics, type DiagnosticsByFile } from './clang-diagnostics';
import type { Clang } from './find-clang';
import { bpfTargetArch, multiarchIncludeDir } from './target-arch';
import { forgetPrecompiledHeader } from './vmlinux-pch';

export interface CompileOptions {
  sourcePath: string;
  clang: Clang;
  /** The target's machine name (hello.arch), e.g. x86_64. */
  machine: string;
  /** ebpfStudio.includePaths / -I, searched before the defaults. */
  includePaths?: string[];
  /** The folder of a provided vmlinux.h, searched after the user's paths. */
  vmlinuxDir?: string;
  /** Extra -D definitions, e.g. ["DEBUG=1"]. */
  defines?: string[];
  /** vmlinux.h precompiled with these flags (vmlinux-pch.ts), read instead of parsing the header again. */
  precompiledHeader?: string;
}

export interface CompileResult {
  /** The ELF object; absent when clang failed. */
  object?: Buffer;
  /** clang's errors and warnings (source 'clang') by absolute file path. */
  diagnostics: DiagnosticsByFile;
  /** The command line run, for the output channel. */
  command: string[];
  stderr: string;
  ms: number;
}

/** The include folders a compile searches, in order (without the vmlinux.h folder). */
export function includeDirs(sourcePath: string, machine: string, includePaths: string[] = []): string[] {
  const multiarch = multiarchIncludeDir(machine);
  return [...includePaths.map((p) => resolve(p)), dirname(resolve(sourcePath)), ...(multiarch ? [multiarch] : [])];
}

/** The flags that decide the code and the macros a compile sees, without include folders (a precompiled header's too). */
export function probeCodegenFlags(options: Pick<CompileOptions, 'machine' | 'defines'>): string[] {
  return ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${bpfTargetArch(options.machine)}`, ...(options.defines ?? []).map((d) => `-D${d}`)];
}

/** The flags that make clang see a probe as eBPF Studio compiles it (clangd gets the same). */
export function probeCompileFlags(options: Pick<CompileOptions, 'machine' | 'includePaths' | 'vmlinuxDir' | 'defines'>): string[] {
  const multiarch = multiarchIncludeDir(options.machine);
  return [
    ...probeCodegenFlags(options),
    ...(options.includePaths ?? []).map((p) => `-I${resolve(p)}`),
    ...(options.vmlinuxDir ? [`-I${options.vmlinuxDir}`] : []),
    ...(multiarch ? [`-I${multiarch}`] : []),
  ];
}

/** Compiles the probe; a precompiled vmlinux.h clang refuses (stale, another clang) is dropped and the compile run without it. */
export async function compileProbe(options: CompileOptions): Promise<CompileResult> {
  const result = await runClang(options);
  if (!options.precompiledHeader || result.object || !/precompiled header|\.pch\b|PCH file/i.test(result.stderr)) return result;
  forgetPrecompiledHeader(options.precompiledHeader);
  const plain = { ...options };
  delete plain.precompiledHeader;
  return runClang(plain);
}

function runClang(options: CompileOptions): Promise<CompileResult> {
  const source = resolve(options.sourcePath);
  const args = [
    ...probeCompileFlags(options),
    ...(options.precompiledHeader ? ['-include-pch', options.precompiledHeader] : []),
    '-fno-color-diagnostics',
    '-fno-caret-diagnostics',
    // A clang crash is reported as a diagnostic; no reproducer files are left in /tmp.
    '-fno-crash-diagnostics',
    '-c',
    basename(source),
    '-o',
    '-',
  ];
  const cwd = dirname(source);
  const started = performance.now();
  return new Promise((resolveResult) => {
    execFile(options.clang.path, args, { cwd, encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderrBytes) => {
      const stderr = stderrBytes.toString('utf8');
      const diagnostics = parseClangDiagnostics(stderr, cwd);
      const ms = Math.round(performance.now() - started);
      const command = [options.clang.path, ...args];
      if (err && diagnostics.size === 0) {
        const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${options.clang.path} is missing` : stderr.trim() || err.message;
        diagnostics.set(source, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, severity: 1, source: 'clang', message: `clang failed: ${reason}` }]);
      }
      resolveResult({ ...(err ? {} : { object: stdout }), diagnostics, command, stderr, ms });
    });
  });
}
