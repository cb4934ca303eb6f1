// One open probe file across edits: masks the BPF macros, re-parses incrementally (tree.edit +
// parse(old)) from the span that changed, and says which span of the new text an update touched.
import type { Parser, Tree, Point } from 'web-tree-sitter';
import { maskBpfMacros } from './bpf-macro-mask';
import { FunctionMemo, ProbeFile, type EditedSpan } from './probe-file';
import type { KernelVersion } from '../kernel/kernel-version';
import type { HelperAvailability } from '../kernel/helper-availability';
import { createCParser } from './c-parser';

/** The span of the new text that differs from the previous version: [start, newEnd). */
export type ChangedSpan = EditedSpan;

export interface ProbeUpdate {
  file: ProbeFile;
  /** null on the first parse (everything is new). */
  changed: ChangedSpan | null;
}

function pointAt(text: string, offset: number): Point {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

/** Characters compared at once while looking for where two versions differ. */
const CHUNK = 256;

/** The smallest span where two texts differ (common prefix and suffix removed). */
export function diffSpan(before: string, after: string): ChangedSpan | null {
  if (before === after) return null;
  const shorter = Math.min(before.length, after.length);
  let prefix = 0;
  // a chunk at a time first (a string comparison), then by character
  while (prefix + CHUNK <= shorter && before.slice(prefix, prefix + CHUNK) === after.slice(prefix, prefix + CHUNK)) prefix += CHUNK;
  while (prefix < shorter && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix + CHUNK <= shorter - prefix && before.slice(before.length - suffix - CHUNK, before.length - suffix) === after.slice(after.length - suffix - CHUNK, after.length - suffix)) suffix += CHUNK;
  while (suffix < shorter - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  return { start: prefix, oldEnd: before.length - suffix, newEnd: after.length - suffix };
}

export class ProbeDocument {
  private masked = '';
  private tree: Tree | null = null;
  private retiredTree: Tree | null = null;
  private current: ProbeFile | null = null;
  private readonly functionMemo = new FunctionMemo();

  constructor(
    private readonly parser: Parser,
    readonly uri: string,
  ) {}

  static async open(uri: string): Promise<ProbeDocument> {
    return new ProbeDocument(await createCParser(), uri);
  }

  get file(): ProbeFile | null {
    return this.current;
  }

  /** Parses the new full text, incrementally from the previous version when there is one. */
  update(text: string, targetKernel: KernelVersion, helperAvailability?: HelperAvailability): ProbeUpdate {
    const { masked, macros } = maskBpfMacros(text);
    let changed: ChangedSpan | null = null;
    let tree: Tree | null;
    if (this.tree) {
      changed = diffSpan(this.masked, masked) ?? { start: 0, oldEnd: 0, newEnd: 0 };
      if (changed.oldEnd !== changed.start || changed.newEnd !== changed.start) {
        this.tree.edit({
          startIndex: changed.start,
          oldEndIndex: changed.oldEnd,
          newEndIndex: changed.newEnd,
          startPosition: pointAt(masked, changed.start),
          oldEndPosition: pointAt(this.masked, changed.oldEnd),
          newEndPosition: pointAt(masked, changed.newEnd),
        });
      }
      tree = this.parser.parse(masked, this.tree);
    } else {
      tree = this.parser.parse(masked);
    }
    if (!tree) throw new Error(`tree-sitter could not parse ${this.uri}`);
    // the file before last may still be read by a request in flight; older trees are freed
    this.retiredTree?.delete();
    this.retiredTree = this.tree;
    this.tree = tree;
    this.masked = masked;
    this.functionMemo.nextVersion();
    this.current = new ProbeFile(text, masked, tree, macros, { uri: this.uri, targetKernel, helperAvailability, changed, functionMemo: this.functionMemo, previousVersion: this.current });
    return { file: this.current, changed };
  }

  close(): void {
    this.retiredTree?.delete();
    this.tree?.delete();
    this.retiredTree = this.tree = null;
    this.current = null;
    this.parser.delete();
  }
}

let oneShotParser: Promise<Parser> | undefined;

/** Parses one text once (CLI, tests), with a parser shared by all one-shot parses. */
export async function parseProbeFile(text: string, options: { uri?: string; targetKernel: KernelVersion }): Promise<ProbeFile> {
  oneShotParser ??= createCParser();
  const parser = await oneShotParser;
  const { masked, macros } = maskBpfMacros(text);
  const tree = parser.parse(masked);
  if (!tree) throw new Error('tree-sitter could not parse the file');
  return new ProbeFile(text, masked, tree, macros, { uri: options.uri ?? 'file:///untitled.bpf.c', targetKernel: options.targetKernel, changed: null });
}
