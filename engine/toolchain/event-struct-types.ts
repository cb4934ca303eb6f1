// The structs a probe's ring/perf buffer records are made of, for decoding them: which struct each buffer receives
// (the type of what the program passes to bpf_ringbuf_reserve/_output or bpf_perf_event_output, read from its source
// and local headers), and a BTF that holds every struct the probe defines. clang emits BTF only for types that globals,
// maps and function signatures use, so a record struct used through a local pointer (opensnoop, bootstrap, the
// file-open-tracer template) is missing from the object; a second compile of the probe with one global pointer per
// struct puts them all in. Talks to the file system and, through `compile`, to clang.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { EventTypes } from '../../protocol/agent-rpc';
import { elfSection } from '../btf/elf-sections';
import { includesVmlinuxFirst } from './vmlinux-pch';

/** The probe's own text and the local headers it includes with quotes (recursively), by absolute path. */
export function probeSourceTexts(sourcePath: string): Map<string, string> {
  const texts = new Map<string, string>();
  const visit = (path: string) => {
    if (texts.has(path) || !existsSync(path)) return;
    const text = readFileSync(path, 'utf8');
    texts.set(path, text);
    for (const m of text.matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)) {
      if (m[1] !== 'vmlinux.h') visit(resolve(dirname(path), m[1]));
    }
  };
  visit(resolve(sourcePath));
  return texts;
}

/** Struct tags defined with a body, and typedef names of struct bodies, in the order they appear. */
export function definedStructNames(texts: Iterable<string>): { tags: string[]; typedefs: string[] } {
  const tags = new Set<string>();
  const typedefs = new Set<string>();
  for (const text of texts) {
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const m of code.matchAll(/\bstruct\s+([A-Za-z_]\w*)\s*\{/g)) tags.add(m[1]);
    for (const m of code.matchAll(/\btypedef\s+struct\s*\w*\s*\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}\s*([A-Za-z_]\w*)\s*;/g)) typedefs.add(m[1]);
  }
  return { tags: [...tags], typedefs: [...typedefs] };
}

/** The struct (or typedef) name a variable is declared with in the text, e.g. `struct event *e;` → "event". */
function variableType(code: string, variable: string): string | undefined {
  const v = variable.replace(/[^\w]/g, '');
  const struct = new RegExp(`\\bstruct\\s+([A-Za-z_]\\w*)\\s*\\*?\\s*(?:const\\s+)?\\b${v}\\b\\s*(?:[;=,)\\[])`).exec(code);
  if (struct) return struct[1];
  const typedef = new RegExp(`\\b([A-Za-z_]\\w*_t|[A-Za-z_]\\w*)\\s*\\*?\\s*\\b${v}\\b\\s*(?:[;=,)\\[])`).exec(code);
  return typedef && !/^(return|const|volatile|static|unsigned|signed|int|char|long|void|u\d+|__u\d+|s\d+|__s\d+|bool)$/.test(typedef[1]) ? typedef[1] : undefined;
}

/** `sizeof(struct x)`, `sizeof(*e)` or `sizeof(e)` → the struct name, through the variable's declaration. */
function sizeofType(code: string, expression: string | undefined): string | undefined {
  if (!expression) return undefined;
  const direct = /^\s*struct\s+([A-Za-z_]\w*)\s*$/.exec(expression);
  if (direct) return direct[1];
  const variable = /^\s*\*?\s*([A-Za-z_]\w*)\s*$/.exec(expression);
  return variable ? variableType(code, variable[1]) : undefined;
}

/**
 * For each ring/perf buffer map the program writes to, the struct names it passes (best first): from
 * `x = bpf_ringbuf_reserve(&map, sizeof(...), 0)`, `bpf_ringbuf_output(&map, data, size, 0)` and
 * `bpf_perf_event_output(ctx, &map, flags, data, size)`.
 */
export function eventStructsByMap(texts: Iterable<string>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (map: string, name: string | undefined) => {
    if (!name) return;
    const names = found.get(map) ?? [];
    if (!names.includes(name)) names.push(name);
    found.set(map, names);
  };
  for (const text of texts) {
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const m of code.matchAll(/(\w+)\s*=\s*(?:\([^)]*\)\s*)?bpf_ringbuf_reserve\s*\(\s*&\s*(\w+)\s*,\s*sizeof\s*\(([^()]*)\)/g)) {
      add(m[2], sizeofType(code, m[3]) ?? variableType(code, m[1]));
    }
    for (const m of code.matchAll(/bpf_ringbuf_output\s*\(\s*&\s*(\w+)\s*,\s*&?\s*(\w+)\s*,\s*(?:sizeof\s*\(([^()]*)\))?/g)) {
      add(m[1], variableType(code, m[2]) ?? sizeofType(code, m[3]));
    }
    for (const m of code.matchAll(/bpf_perf_event_output\s*\(\s*\w+\s*,\s*&\s*(\w+)\s*,\s*[^,]+,\s*&?\s*(\w+)\s*,\s*(?:sizeof\s*\(([^()]*)\))?/g)) {
      add(m[1], variableType(code, m[2]) ?? sizeofType(code, m[3]));
    }
  }
  return found;
}

/**
 * Source of a wrapper that includes the probe and adds one global pointer per struct it defines (never loaded). When the
 * probe's first directive includes vmlinux.h, so does the wrapper's, so its compile can read the precompiled header too.
 */
export function typeAnchorSource(sourcePath: string, names: { tags: string[]; typedefs: string[] }, vmlinuxFirst = false): string {
  const lines = [...(vmlinuxFirst ? ['#include "vmlinux.h"'] : []), `#include "${resolve(sourcePath).replace(/["\\]/g, '\\$&')}"`];
  names.tags.forEach((tag, i) => lines.push(`struct ${tag} *__ebpf_studio_struct_${i};`));
  names.typedefs.forEach((name, i) => lines.push(`${name} *__ebpf_studio_typedef_${i};`));
  return `${lines.join('\n')}\n`;
}

/**
 * The raw BTF of the probe compiled with every struct it defines anchored in a global: a superset of the object's own
 * BTF for decoding records. `compile` builds a file (with the probe's folder on the include path) into an object,
 * or returns undefined when clang fails; then so does this (the caller keeps the object's own BTF).
 */
export async function eventTypesBtf(sourcePath: string, compile: (wrapperPath: string) => Promise<Buffer | undefined>): Promise<Uint8Array | undefined> {
  const texts = probeSourceTexts(sourcePath);
  const names = definedStructNames(texts.values());
  if (names.tags.length === 0 && names.typedefs.length === 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-event-types-'));
  try {
    const wrapper = join(dir, 'event-types.bpf.c');
    writeFileSync(wrapper, typeAnchorSource(sourcePath, names, includesVmlinuxFirst(texts.get(resolve(sourcePath)) ?? '')));
    const object = await compile(wrapper);
    return object ? elfSection(object, '.BTF') : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What a load request carries for decoding the probe's records: the anchored BTF (when the probe declares a ring or
 * perf buffer and defines structs) and the struct names each buffer receives. undefined for probes without buffers.
 */
export async function eventTypesForLoad(sourcePath: string, compile: (wrapperPath: string) => Promise<Buffer | undefined>): Promise<EventTypes | undefined> {
  const texts = probeSourceTexts(sourcePath);
  if (![...texts.values()].some((t) => /BPF_MAP_TYPE_(RINGBUF|PERF_EVENT_ARRAY)\b/.test(t))) return undefined;
  const btf = await eventTypesBtf(sourcePath, compile).catch(() => undefined);
  return { ...(btf ? { btf: Buffer.from(btf).toString('base64') } : {}), byMap: Object.fromEntries(eventStructsByMap(texts.values())) };
}
