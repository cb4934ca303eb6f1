// The part of vmlinux.h one probe can name, for its first compile on a kernel whose whole header is not cached yet: the probe
// preprocessed against an empty vmlinux.h (clang -E) gives its identifiers, btf-subset.ts the types, bpftool the header.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { subsetBtf } from './btf-subset';
import { probeCompileFlags } from './compile-probe';
import type { Clang } from './find-clang';
import { dumpBtfAsHeader } from './vmlinux-header';

export interface ProbeVmlinuxSubset {
  /** The folder holding the probe's vmlinux.h, for the include path. */
  dir: string;
  /** Removes the folder (after the compile). */
  remove(): void;
}

/**
 * Writes the vmlinux.h types `sourcePath` can name into a temporary folder: every type, typedef or enumerator named by one of
 * the probe's identifiers once preprocessed (its own headers and libbpf's included), with what those hold by value. `btf` is
 * the target's BTF with its names already sanitized (btf-names.ts).
 */
export async function writeProbeVmlinuxSubset(options: { clang: Clang; sourcePath: string; machine: string; includePaths?: string[]; btf: Buffer }): Promise<ProbeVmlinuxSubset> {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-vmlinux-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'vmlinux.h'), '');
    const source = resolve(options.sourcePath);
    const flags = probeCompileFlags({ machine: options.machine, ...(options.includePaths ? { includePaths: options.includePaths } : {}), vmlinuxDir: empty });
    const { stdout } = await promisify(execFile)(options.clang.path, [...flags, '-E', '-P', basename(source)], { cwd: dirname(source), maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
    const identifiers = new Set(stdout.match(/[A-Za-z_][A-Za-z0-9_]*/g));
    const btfPath = join(dir, 'vmlinux.btf');
    writeFileSync(btfPath, subsetBtf(options.btf, identifiers));
    await dumpBtfAsHeader(btfPath, join(dir, 'vmlinux.h'));
    return { dir, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
