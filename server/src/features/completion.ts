// Completion: helpers (signature, docs, "since", filtered by the program type at the cursor; none after `->`/`.`),
// SEC("…") names inside SEC strings, map types/flags and map fields inside map definitions.
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Position } from 'vscode-languageserver-types';
import type { ProbeFile } from '../analysis/probe-file';
import { kernelFacts } from '../kernel/kernel-facts';
import { formatKernelVersion, kernelHas, type KernelVersion } from '../kernel/kernel-version';
import { programTypeEnumName, type ProgramType } from '../kernel/program-types';
import { DATA_SECTIONS } from '../kernel/sections';
import type { HelperAvailability } from '../kernel/helper-availability';
import { helperMarkdown, helperSinceLabel } from './helper-docs';

const MAP_FIELDS: { label: string; snippet: string; detail: string }[] = [
  { label: '__uint(type, …)', snippet: '__uint(type, ${1:BPF_MAP_TYPE_HASH});', detail: 'map type' },
  { label: '__uint(max_entries, …)', snippet: '__uint(max_entries, ${1:10240});', detail: 'maximum number of entries' },
  { label: '__type(key, …)', snippet: '__type(key, ${1:u32});', detail: 'key type (BTF)' },
  { label: '__type(value, …)', snippet: '__type(value, ${1:u64});', detail: 'value type (BTF)' },
  { label: '__uint(key_size, …)', snippet: '__uint(key_size, sizeof(${1:u32}));', detail: 'key size (perf event arrays)' },
  { label: '__uint(value_size, …)', snippet: '__uint(value_size, sizeof(${1:u32}));', detail: 'value size (perf event arrays)' },
  { label: '__uint(map_flags, …)', snippet: '__uint(map_flags, ${1:BPF_F_NO_PREALLOC});', detail: 'map flags' },
  { label: '__uint(pinning, LIBBPF_PIN_BY_NAME)', snippet: '__uint(pinning, LIBBPF_PIN_BY_NAME);', detail: 'pin under /sys/fs/bpf' },
  { label: '__array(values, …)', snippet: '__array(values, ${1:struct inner_map});', detail: 'inner map (map-in-map)' },
];

const helperItemCache = new Map<string, CompletionItem[]>();

function helperItems(programTypes: readonly ProgramType[], target: KernelVersion, availability: HelperAvailability): CompletionItem[] {
  const key = `${programTypes.join(',')}@${formatKernelVersion(target)} ${availability.key}`;
  const cached = helperItemCache.get(key);
  if (cached) return cached;
  const items: CompletionItem[] = [];
  for (const helper of kernelFacts.helpers()) {
    if (programTypes.length && !programTypes.every((type) => availability.allowedIn(helper, type, target))) continue;
    const present = kernelHas(target, helper.since);
    items.push({
      label: helper.name,
      kind: CompletionItemKind.Function,
      detail: `${helper.signature}${helper.since ? ` — ${helperSinceLabel(helper, target)}` : ''}`,
      labelDetails: { detail: `(${helper.params.map((p) => p.name).join(', ')})`, description: helper.since ? `since ${helper.since}` : undefined },
      documentation: { kind: MarkupKind.Markdown, value: helperMarkdown(helper, target, programTypes, availability) },
      insertText: `${helper.name}(${helper.params.map((p, i) => `\${${i + 1}:${p.name}}`).join(', ')})`,
      insertTextFormat: InsertTextFormat.Snippet,
      sortText: `${present ? '0' : '1'}${helper.name}`,
    });
  }
  helperItemCache.set(key, items);
  return items;
}

function sectionItems(): CompletionItem[] {
  const items: CompletionItem[] = kernelFacts.sectionDefinitions().map((definition, index) => {
    const bare = definition.pattern.replace(/\+$/, '');
    const takesTarget = definition.pattern.endsWith('+') || definition.pattern.endsWith('/');
    return {
      label: takesTarget ? `${bare.replace(/\/$/, '')}/` : bare,
      kind: CompletionItemKind.EnumMember,
      detail: `${definition.programType} program (${programTypeEnumName(definition.programType)})${definition.sleepable ? ', sleepable' : ''}`,
      documentation: `e.g. SEC("${definition.example}")${definition.attachType ? ` — attach type ${definition.attachType}` : ''}`,
      sortText: String(index).padStart(3, '0'),
      ...(takesTarget ? { command: { title: 'Suggest', command: 'editor.action.triggerSuggest' } } : {}),
    };
  });
  for (const data of DATA_SECTIONS.filter((d) => !d.endsWith('.'))) {
    items.push({ label: data, kind: CompletionItemKind.Constant, detail: 'data section', sortText: `z${data}` });
  }
  return items;
}

function mapTypeItems(target: KernelVersion): CompletionItem[] {
  return kernelFacts.mapTypes().map((type) => {
    const since = kernelFacts.mapTypeSince(type);
    const present = kernelHas(target, since);
    return {
      label: type,
      kind: CompletionItemKind.EnumMember,
      detail: since ? `since ${since}${present ? '' : ` — newer than the target kernel ${formatKernelVersion(target)}`}` : undefined,
      sortText: `${present ? '0' : '1'}${type}`,
    };
  });
}

function mapFlagItems(target: KernelVersion): CompletionItem[] {
  return Object.entries(kernelFacts.mapFlags()).map(([flag, since]) => ({
    label: flag,
    kind: CompletionItemKind.Constant,
    detail: `since ${since}${kernelHas(target, since) ? '' : ` — newer than the target kernel ${formatKernelVersion(target)}`}`,
  }));
}

/** The completion items at a position of a parsed probe file. */
export function completionsAt(file: ProbeFile, position: Position): CompletionItem[] {
  const offset = file.offsetAt(position);
  const lineText = file.lines[position.line] ?? '';
  const before = lineText.slice(0, position.character);
  const sectionPrefix = /\bSEC\s*\(\s*"([^"]*)$/.exec(before);
  if (sectionPrefix) {
    // replace everything typed inside the quotes: "/" and "." are not word characters in C
    const range = { start: { line: position.line, character: position.character - sectionPrefix[1].length }, end: position };
    return sectionItems().map((item) => ({ ...item, filterText: item.label, textEdit: { range, newText: item.label } }));
  }
  if (/__uint\s*\(\s*type\s*,\s*\w*$/.test(before) || /\.type\s*=\s*\w*$/.test(before)) return mapTypeItems(file.targetKernel);
  if (/__uint\s*\(\s*map_flags\s*,[^)]*$/.test(before) || /\.map_flags\s*=[^,;]*$/.test(before)) return mapFlagItems(file.targetKernel);
  // after `ctx->` or `s.` the members come from clangd; a helper is never a member
  if (/(->|\.)\s*\w*$/.test(before)) return [];
  const fn = file.functionAt(offset);
  if (fn && offset > fn.body.startIndex) return helperItems(fn.programTypes, file.targetKernel, file.helperAvailability);
  if (file.mapAt(offset) || (/^\s*(__\w*)?$/.test(before) && isInsideMapStruct(file, offset))) {
    return MAP_FIELDS.map((field) => ({ label: field.label, kind: CompletionItemKind.Field, detail: field.detail, insertText: field.snippet, insertTextFormat: InsertTextFormat.Snippet }));
  }
  // half-typed code the parser could not make a function of: helpers for the section above
  if (!fn && /^\s/.test(lineText)) return helperItems(file.programTypesAt(offset), file.targetKernel, file.helperAvailability);
  return [];
}

/** Inside `struct { … }` at top level: a map definition being written (its SEC may not be typed yet). */
function isInsideMapStruct(file: ProbeFile, offset: number): boolean {
  const node = file.root.descendantForIndex(Math.max(0, offset - 1));
  for (let current: typeof node | null = node; current; current = current.parent) {
    if (current.type === 'field_declaration_list') return current.parent?.type === 'struct_specifier' && current.parent.childForFieldName('name') == null;
    if (current.type === 'function_definition') return false;
  }
  return false;
}
