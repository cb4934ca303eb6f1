// Checks the plain syntax tree (server/src/analysis/syntax-node.ts) against web-tree-sitter's own Node answers,
// node by node, on every ../shared/realworld probe whole and cut off halfway (so with ERROR and missing nodes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Node } from 'web-tree-sitter';
import { ProbeDocument, parseProbeFile } from '../../server/src/analysis/probe-document';
import type { SyntaxNode } from '../../server/src/analysis/syntax-node';
import { runningKernelVersion } from '../../server/src/kernel/kernel-version';

const REALWORLD = resolve(__dirname, '..', '..', '..', 'shared', 'realworld');
const realworldSkip = existsSync(REALWORLD) ? false : process.env.CI === 'true' ? assert.fail(`needs ${REALWORLD}`) : `needs ${REALWORLD}`;

/** The node types the rules look for with descendantsOfType, and ERROR. */
const DESCENDANT_TYPES = [['call_expression'], ['identifier'], ['if_statement', 'conditional_expression', 'while_statement', 'for_statement'], ['ERROR']];

function label(node: Pick<Node, 'type' | 'startIndex' | 'endIndex'> | null): string {
  return node ? `${node.type}@${node.startIndex}-${node.endIndex}` : 'none';
}

function labels(nodes: readonly (Pick<Node, 'type' | 'startIndex' | 'endIndex'> | null)[]): string[] {
  return nodes.map(label);
}

function isEmpty(node: SyntaxNode | null): boolean {
  return node != null && node.startIndex === node.endIndex;
}

/** Compares one mirrored node with the live one and every node below it; returns how many nodes it compared. */
function compareSubtree(mirror: SyntaxNode, live: Node, fields: string[], where: string): number {
  const at = `${where}: ${label(live)}`;
  assert.equal(label(mirror), label(live), at);
  assert.equal(mirror.isNamed, live.isNamed, `${at} isNamed`);
  assert.equal(mirror.isMissing, live.isMissing, `${at} isMissing`);
  assert.equal(mirror.hasError, live.hasError, `${at} hasError`);
  assert.equal(mirror.text, live.text, `${at} text`);
  assert.deepEqual(mirror.startPosition, live.startPosition, `${at} startPosition`);
  assert.deepEqual(mirror.endPosition, live.endPosition, `${at} endPosition`);
  assert.equal(label(mirror.parent), label(live.parent), `${at} parent`);
  // tree-sitter's sibling lookup passes over an empty (missing) node next to this one; the mirror gives it
  if (!isEmpty(mirror.previousSibling)) assert.equal(label(mirror.previousSibling), label(live.previousSibling), `${at} previousSibling`);
  if (!isEmpty(mirror.nextSibling)) assert.equal(label(mirror.nextSibling), label(live.nextSibling), `${at} nextSibling`);
  if (!isEmpty(mirror.previousNamedSibling)) assert.equal(label(mirror.previousNamedSibling), label(live.previousNamedSibling), `${at} previousNamedSibling`);
  if (!isEmpty(mirror.nextNamedSibling)) assert.equal(label(mirror.nextNamedSibling), label(live.nextNamedSibling), `${at} nextNamedSibling`);
  assert.equal(mirror.childCount, live.childCount, `${at} childCount`);
  assert.deepEqual(labels(mirror.namedChildren), labels(live.namedChildren), `${at} namedChildren`);
  assert.equal(mirror.namedChildCount, live.namedChildCount, `${at} namedChildCount`);
  assert.equal(label(mirror.namedChild(0)), label(live.namedChild(0)), `${at} namedChild(0)`);
  if (live.childCount > 0) {
    for (const field of fields) {
      assert.equal(label(mirror.childForFieldName(field)), label(live.childForFieldName(field)), `${at} childForFieldName(${field})`);
      assert.deepEqual(labels(mirror.childrenForFieldName(field)), labels(live.childrenForFieldName(field)), `${at} childrenForFieldName(${field})`);
    }
    for (const types of DESCENDANT_TYPES) {
      assert.deepEqual(labels(mirror.descendantsOfType(types)), labels(live.descendantsOfType(types)), `${at} descendantsOfType(${types.join(', ')})`);
    }
  }
  const liveChildren = live.children;
  let compared = 1;
  mirror.children.forEach((child, i) => {
    assert.equal(label(mirror.child(i)), label(live.child(i)), `${at} child(${i})`);
    compared += compareSubtree(child, liveChildren[i] as Node, fields, where);
  });
  return compared;
}

function realworldProbes(): { name: string; text: string }[] {
  return ['libbpf-tools', 'libbpf-bootstrap'].flatMap((dir) =>
    readdirSync(join(REALWORLD, dir))
      .filter((name) => name.endsWith('.bpf.c'))
      .map((name) => ({ name: `${dir}/${name}`, text: readFileSync(join(REALWORLD, dir, name), 'utf8') })),
  );
}

test('the plain syntax tree answers as web-tree-sitter does for every node of every real-world probe, whole and cut off halfway', { skip: realworldSkip }, async () => {
  let nodes = 0;
  let withErrors = 0;
  for (const probe of realworldProbes()) {
    // cut inside a line halfway through: the parser recovers with ERROR and missing nodes
    for (const [where, text] of [
      [probe.name, probe.text],
      [`${probe.name} cut at ${probe.text.length >> 1}`, probe.text.slice(0, probe.text.length >> 1)],
    ]) {
      const file = await parseProbeFile(text, { targetKernel: runningKernelVersion() });
      const fields = file.tree.language.fields.filter((field): field is string => field != null);
      const live = file.tree.rootNode;
      if (live.hasError) withErrors++;
      nodes += compareSubtree(file.root, live, fields, where);
      for (let offset = 0; offset <= text.length; offset += 3) {
        assert.equal(label(file.root.descendantForIndex(offset)), label(live.descendantForIndex(offset)), `${where}: descendantForIndex(${offset})`);
        assert.equal(label(file.root.descendantForIndex(offset, offset + 5)), label(live.descendantForIndex(offset, offset + 5)), `${where}: descendantForIndex(${offset}, ${offset + 5})`);
      }
    }
  }
  assert.ok(nodes > 10_000, `compared ${nodes} nodes`);
  assert.ok(withErrors > 0, 'some cut-off probes parse with errors');
});

test('a subtree is read only when something below it is asked for', { skip: realworldSkip }, async () => {
  const file = await parseProbeFile(realworldProbes()[0].text, { targetKernel: runningKernelVersion() });
  const topLevel = file.root.children;
  const ids = topLevel.map((node) => node.id);
  // the top-level nodes were made one after the other, with nothing below them yet
  assert.deepEqual(ids, ids.map((_, i) => ids[0] + i));
  const fn = topLevel.find((node) => node.type === 'function_definition');
  assert.ok(fn, 'the probe defines a function');
  const body = fn.childForFieldName('body');
  assert.ok(body && body.id > ids[ids.length - 1], 'the function body is made after every top-level node');
  assert.equal(fn.childForFieldName('body'), body, 'and made once');
});

test('after edits, the tree copied from the version before answers as web-tree-sitter does, and only the edited declarations are read through wasm', { skip: realworldSkip }, async (t) => {
  const probe = realworldProbes().find((p) => p.name.endsWith('/opensnoop.bpf.c')) ?? realworldProbes()[0];
  const lines = probe.text.split('\n');
  const statement = lines.findIndex((line, i) => i > lines.length / 2 && /^\t\S.*;\s*$/.test(line));
  const define = lines.findIndex((line) => /^#define\s/.test(line));
  const functionStart = lines.findIndex((line, i) => i > statement && /^SEC\(/.test(line));
  assert.ok(statement > 0 && functionStart > 0, `${probe.name} has a statement in a body and a later program`);
  const programLine = lines[functionStart];
  const at = (l: string[], line: string) => l.indexOf(line);
  // each edit changes the version before it, as typing does
  const edits: [string, (l: string[]) => string[]][] = [
    ['a space after a statement in a body', (l) => l.map((line, i) => (i === statement ? `${line} ` : line))],
    ['a statement made longer', (l) => l.map((line, i) => (i === statement ? line.replace(/;\s*$/, ' + 0;') : line))],
    ['a #define added above the others', (l) => [...l.slice(0, Math.max(define, 0)), '#define EXTRA_FLAG 1', ...l.slice(Math.max(define, 0))]],
    ['an unclosed brace before a program', (l) => [...l.slice(0, at(l, programLine)), 'static int broken(void) {', ...l.slice(at(l, programLine))]],
    ['the brace closed again', (l) => l.map((line) => (line === 'static int broken(void) {' ? 'static int broken(void) { return 0; }' : line))],
    ['a number changed to a name of the same length', (l) => l.map((line) => (line === 'static int broken(void) { return 0; }' ? 'static int broken(void) { return a; }' : line))],
    ['the new function removed', (l) => l.filter((line) => line !== 'static int broken(void) { return a; }')],
  ];
  const document = await ProbeDocument.open('file:///edited.bpf.c');
  t.after(() => document.close());
  const kernel = runningKernelVersion();
  const first = document.update(probe.text, kernel).file;
  // read every top-level subtree, as a first check does
  for (const node of first.root.children) void node.children;
  const fields = first.tree.language.fields.filter((field): field is string => field != null);
  const walks = countWalks(first.tree.rootNode);
  let current = lines;
  for (const [what, edit] of edits) {
    current = edit(current);
    const file = document.update(current.join('\n'), kernel).file;
    walks.count = 0;
    compareSubtree(file.root, file.tree.rootNode, fields, `${probe.name} after ${what}`);
    const topLevel = file.root.children.length;
    assert.ok(walks.count < topLevel / 2, `${what}: ${walks.count} of ${topLevel} top-level nodes read through wasm`);
  }
});

/** Counts the cursor walks started from live nodes (each is one subtree read through wasm). */
function countWalks(anyNode: Node): { count: number } {
  const counter = { count: 0 };
  const prototype = Object.getPrototypeOf(anyNode) as { walk: () => unknown };
  const walk = prototype.walk;
  prototype.walk = function (this: Node) {
    counter.count++;
    return walk.call(this);
  };
  return counter;
}
