// Quick fixes about the licence declaration, shared by the licence rules: insert
// `char LICENSE[] SEC("license") = "…";` after the includes, or change the existing value.
import type { ProbeFile } from '../analysis/probe-file';
import type { QuickFix } from './rule';

export function addLicenseFix(file: ProbeFile, license = 'GPL'): QuickFix {
  let line = 0;
  file.lines.forEach((text, index) => {
    if (/^\s*#\s*include\b/.test(text)) line = index + 1;
  });
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
