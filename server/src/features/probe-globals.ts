// A probe's `const volatile` globals (what user space may set before load) with the comment above or beside each,
// from the tree-sitter parse: what the ebpfStudio/globals request answers. Reads a file only when asked to.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { ProbeGlobal } from '../../../protocol/lsp-requests';
import { runningKernelVersion } from '../kernel/kernel-version';
import { parseProbeFile } from '../analysis/probe-document';
import type { ProbeFile } from '../analysis/probe-file';

/** The text of a comment without its markers (line and block) and the leading star of block lines. */
function commentText(comment: Node): string {
  return comment.text
    .replace(/^\/\/\s?|^\/\*+|\*+\/$/g, '')
    .split('\n')
    .map((line) => line.replace(/^\s*(\*(?!\/)\s?|\/\/\s?)?/, '').trim())
    .filter((line) => line.length > 0)
    .join(' ');
}

/** The declared name: through init/array/pointer declarators to the identifier. */
function declaredName(declaration: Node): string | undefined {
  let node: Node | null = declaration.childForFieldName('declarator');
  for (let depth = 0; node && node.type !== 'identifier' && depth < 8; depth++) node = node.childForFieldName('declarator');
  return node?.type === 'identifier' ? node.text : undefined;
}

/** `const volatile` and not `static` (user space sets only the object's global ones, as skeletons do). */
function isSettableGlobal(declaration: Node): boolean {
  const qualifiers = declaration.namedChildren.filter((c) => c.type === 'type_qualifier').map((c) => c.text);
  const isStatic = declaration.namedChildren.some((c) => c?.type === 'storage_class_specifier' && c.text === 'static');
  return qualifiers.includes('const') && qualifiers.includes('volatile') && !isStatic;
}

/** A comment on a line of its own (not one trailing the declaration before it). */
function standsAlone(comment: Node): boolean {
  return comment.previousSibling?.endPosition.row !== comment.startPosition.row;
}

/** The comments right above a declaration (a run of lines with nothing between), else the one after it on its line. */
function commentOf(declaration: Node): string {
  const above: string[] = [];
  let row = declaration.startPosition.row;
  for (let prev = declaration.previousNamedSibling; prev?.type === 'comment' && prev.endPosition.row === row - 1 && standsAlone(prev); prev = prev.previousNamedSibling) {
    above.unshift(commentText(prev));
    row = prev.startPosition.row;
  }
  if (above.length > 0) return above.join(' ');
  const next = declaration.nextNamedSibling;
  return next?.type === 'comment' && next.startPosition.row === declaration.endPosition.row ? commentText(next) : '';
}

export function probeGlobals(file: ProbeFile): ProbeGlobal[] {
  return file.root.namedChildren.flatMap((node): ProbeGlobal[] => {
    if (node?.type !== 'declaration' || !isSettableGlobal(node)) return [];
    const name = declaredName(node);
    return name ? [{ name, line: node.startPosition.row, comment: commentOf(node) }] : [];
  });
}

/** The globals of a probe on disk. */
export async function readProbeGlobals(path: string): Promise<ProbeGlobal[]> {
  const text = await readFile(path, 'utf8');
  return probeGlobals(await parseProbeFile(text, { uri: pathToFileURL(path).href, targetKernel: runningKernelVersion() }));
}
