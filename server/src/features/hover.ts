// Hover: helper documentation with availability for the program type at the cursor and the kernel
// it appeared in; SEC("…") names, programs, maps and map types explain themselves.
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver-types';
import type { ProbeFile } from '../analysis/probe-file';
import { HELPER_MACROS } from '../analysis/probe-file';
import { kernelFacts } from '../kernel/kernel-facts';
import { programTypeEnumName } from '../kernel/program-types';
import { helperMarkdown } from './helper-docs';

export function hoverAt(file: ProbeFile, position: Position): Hover | null {
  const offset = file.offsetAt(position);
  const section = file.macroAt(offset);
  if (section?.kind === 'section') {
    const match = kernelFacts.section(section.value);
    const text = match
      ? `SEC("${section.value}"): a **${match.programType}** program (${programTypeEnumName(match.programType)})${match.definition.attachType ? `, attach type ${match.definition.attachType}` : ''}${match.target ? `, attached to \`${match.target}\`` : ''}. First kernel: ${kernelFacts.programTypeSince(match.programType) ?? 'unknown'}.`
      : kernelFacts.isDataSection(section.value)
        ? `SEC("${section.value}"): a data section.`
        : `SEC("${section.value}"): libbpf does not know this section name.`;
    return { contents: { kind: MarkupKind.Markdown, value: text }, range: file.offsetRange(section.start, section.end) };
  }
  const node = file.root.descendantForIndex(offset);
  if (!node || (node.type !== 'identifier' && node.type !== 'type_identifier')) return null;
  const name = node.text;
  const range = file.rangeOf(node);
  const helperName = Object.hasOwn(HELPER_MACROS, name) ? HELPER_MACROS[name] : name;
  const helper = kernelFacts.helper(helperName);
  if (helper && !file.functionNamed(name)) {
        const intro = helperName !== name ? `\`${name}\` expands to a call of \`${helper.name}\`.\n\n` : '';
    return { contents: { kind: MarkupKind.Markdown, value: intro + helperMarkdown(helper, file.targetKernel, file.programTypesAt(offset), file.helperAvailability) }, range };
  }
  const map = file.mapNamed(name);
  if (map) {
    const facts = [
      map.type ? `\`${map.type}\`${kernelFacts.mapTypeSince(map.type) ? ` (since ${kernelFacts.mapTypeSince(map.type)})` : ''}` : 'type not given',
      map.keyType ? `key \`${map.keyType}\`` : '',
      map.valueType ? `value \`${map.valueType}\`` : '',
      map.maxEntries ? `max_entries ${map.maxEntries}` : '',
    ].filter(Boolean);
    return { contents: { kind: MarkupKind.Markdown, value: `map **${map.name}**: ${facts.join(', ')}` }, range };
  }
  const fn = file.functionNamed(name);
  if (fn?.isProgram) {
    const type = fn.programType ? `a **${fn.programType}** program` : 'a program of unknown type (libbpf does not know this section)';
    return { contents: { kind: MarkupKind.Markdown, value: `\`${fn.name}\`: ${type}, SEC("${fn.section}")` }, range };
  }
  const mapSince = name.startsWith('BPF_MAP_TYPE_') ? kernelFacts.mapTypeSince(name) : undefined;
  if (mapSince) return { contents: { kind: MarkupKind.Markdown, value: `\`${name}\`: map type, first kernel ${mapSince}.` }, range };
  return null;
}
