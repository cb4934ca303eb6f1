// Quick fixes about the licence declaration, shared by the licence rules: insert
// `char LICENSE[] SEC("license") = "…";` after the includes, or change the existing value.
import type { ProbeFile } from '../analysis/probe-file';
import type { QuickFix } from './rule';

const insertionLines = new WeakMap<ProbeFile, number>();

/** The line after the last #include (0 without includes), worked out once per file version. */
function licenseInsertionLine(file: ProbeFile): number {
  let line = insertionLines.get(file);
  if (line === undefined) {
    line = 0;
    for (const match of file.text.matchAll(/^[ \t]*#[ \t]*include\b/gm)) line = file.positionAt(match.index).line + 1;
    insertionLines.set(file, line);
  }
  return line;
}

export function addLicenseFix(file: ProbeFile, license = 'GPL'): QuickFix {
  const line = licenseInsertionLine(file);
  const declaration = `char LICENSE[] SEC("license") = "${license}";\n`;
  return {
    title: `Add the licence: ${declaration.trim()}`,
    edits: [{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, newText: line > 0 ? `\n${declaration}` : declaration }],
  };
}

export function changeLicenseFix(file: ProbeFile, license = 'Dual BSD/GPL'): QuickFix | undefined {
  const declared = file.license;
  if (!declared || declared.value === null) return undefined;
  return { title: `Change the licence to "${license}" (GPL-compatible)`, edits: [{ range: declared.valueRange, newText: `"${license}"` }] };
}
