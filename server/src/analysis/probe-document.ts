// One open probe file across edits: masks the BPF macros again around the edit only, re-parses incrementally
// (tree.edit + parse(old)) from the span that changed, and says which span of the new text an update touched.
import type { Parser, Tree, Point } from 'web-tree-sitter';
import { maskBpfMacros, remaskBpfMacros, type MaskState } from './bpf-macro-mask';
import { FunctionMemo, ProbeFile, type EditedSpan } from './probe-file';
import type { KernelVersion } from '../kernel/kernel-version';
import { createCParser } from './c-parser';
import { HelperAvailability } from '../kernel/helper-availability';
import { lineBreaksAfter, lineIndexAt, lineStartsOf } from './line-starts';

/** The span of the new text that differs from the previous version: [start, newEnd). */
export type ChangedSpan = EditedSpan;

export interface ProbeUpdate {
  file: ProbeFile;
  /** null on the first parse (everything is new). */
  changed: ChangedSpan | null;
}

/** The row and column of an offset, from the offsets at which the text's lines start (ascending, the first 0). */
function pointAt(lineStarts: readonly number[], offset: number): Point {
  const row = lineIndexAt(lineStarts, offset);
  return { row, column: offset - lineStarts[row] };
}

/** Characters compared at once while looking for where two versions differ. */
const CHUNK = 256;

/**
 * The smallest span where two texts differ (common prefix and suffix removed). `differsWithin`, when known, is a
 * span outside which the texts are the same: the search starts from it instead of from both ends.
 */
export function diffSpan(before: string, after: string, differsWithin?: ChangedSpan): ChangedSpan | null {
  if (differsWithin) {
    const { start, oldEnd, newEnd } = differsWithin;
    if (oldEnd - start === newEnd - start && before.slice(start, oldEnd) === after.slice(start, newEnd)) return null;
  } else if (before === after) {
    return null;
  }
  const shorter = Math.min(before.length, after.length);
  let prefix = differsWithin?.start ?? 0;
  // a chunk at a time first (a string comparison), then by character
  while (prefix + CHUNK <= shorter && before.slice(prefix, prefix + CHUNK) === after.slice(prefix, prefix + CHUNK)) prefix += CHUNK;
  while (prefix < shorter && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = differsWithin ? Math.min(before.length - differsWithin.oldEnd, shorter - prefix) : 0;
  while (suffix + CHUNK <= shorter - prefix && before.slice(before.length - suffix - CHUNK, before.length - suffix) === after.slice(after.length - suffix - CHUNK, after.length - suffix)) suffix += CHUNK;
  while (suffix < shorter - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  return { start: prefix, oldEnd: before.length - suffix, newEnd: after.length - suffix };
}

export class ProbeDocument {
  private text = '';
  private mask: MaskState = { masked: '', macros: [], cleanLineStarts: [] };
  /** Where the masked text's lines start. */
  private lineStarts: number[] = [0];
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
    const previous = this.current;
    if (previous && text === previous.text && previous.targetKernel === targetKernel && previous.helperAvailability.key === (helperAvailability ?? HelperAvailability.snapshot).key) {
      // the same version again (an open is announced as an open and a change): this parse stands
      return { file: previous, changed: { start: 0, oldEnd: 0, newEnd: 0 } };
    }
    let changed: ChangedSpan | null = null;
    let tree: Tree | null;
    if (this.tree) {
      const edit = diffSpan(this.text, text);
      const before = this.mask.masked;
      const beforeLineStarts = this.lineStarts;
      if (edit) {
        const { mask, remasked } = remaskBpfMacros(this.mask, text, edit);
        this.mask = mask;
        this.lineStarts = this.movedLineStarts(mask.masked, remasked);
        this.text = text;
        changed = diffSpan(before, mask.masked, remasked);
      }
      changed ??= { start: 0, oldEnd: 0, newEnd: 0 };
      if (changed.oldEnd !== changed.start || changed.newEnd !== changed.start) {
        this.tree.edit({
          startIndex: changed.start,
          oldEndIndex: changed.oldEnd,
          newEndIndex: changed.newEnd,
          startPosition: pointAt(this.lineStarts, changed.start),
          oldEndPosition: pointAt(beforeLineStarts, changed.oldEnd),
          newEndPosition: pointAt(this.lineStarts, changed.newEnd),
        });
      }
      tree = this.parser.parse(this.mask.masked, this.tree);
    } else {
      this.mask = maskBpfMacros(text);
      this.lineStarts = lineStartsOf(this.mask.masked);
      this.text = text;
      tree = this.parser.parse(this.mask.masked);
    }
    if (!tree) throw new Error(`tree-sitter could not parse ${this.uri}`);
    // the file before last may still be read by a request in flight; older trees are freed
    this.retiredTree?.delete();
    this.retiredTree = this.tree;
    this.tree = tree;
    this.functionMemo.nextVersion();
    this.current = new ProbeFile(text, this.mask.masked, tree, this.mask.macros, { uri: this.uri, targetKernel, helperAvailability, changed, functionMemo: this.functionMemo, previousVersion: this.current });
    return { file: this.current, changed };
  }

  /** The line starts of the new masked text: those outside the re-masked span kept, or moved by its length change. */
  private movedLineStarts(masked: string, remasked: ChangedSpan): number[] {
    const delta = remasked.newEnd - remasked.oldEnd;
    const starts = this.lineStarts;
    const below = starts.slice(pointAt(starts, remasked.oldEnd).row + 1);
    for (let i = 0; i < below.length; i++) below[i] += delta;
    return [...starts.slice(0, pointAt(starts, remasked.start).row + 1), ...lineBreaksAfter(masked, remasked.start, remasked.newEnd), ...below];
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
