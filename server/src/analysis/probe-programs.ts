// A probe's programs (functions with a SEC("…")) with their SEC lines, from the tree-sitter parse: what the
// ebpfStudio/programs request answers and what the CLI hands the verifier. Reads a file only when asked to.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { ProbeProgram } from '../../../protocol/lsp-requests';
import { runningKernelVersion } from '../kernel/kernel-version';
import { parseProbeFile } from './probe-document';
import type { ProbeFile } from './probe-file';

export function probePrograms(file: ProbeFile): ProbeProgram[] {
  return file.programs.map((fn) => ({ name: fn.name, section: fn.section ?? '', line: fn.sectionRange?.start.line ?? fn.nameRange.start.line }));
}

/** The programs of a probe on disk (the target kernel does not change which functions are programs). */
export async function readProbePrograms(path: string): Promise<ProbeProgram[]> {
  const text = await readFile(path, 'utf8');
  return probePrograms(await parseProbeFile(text, { uri: pathToFileURL(path).href, targetKernel: runningKernelVersion() }));
}
