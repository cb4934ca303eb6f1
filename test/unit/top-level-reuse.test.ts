// What a version takes over from the one before (top-level-segments.ts: text, names, definitions, outside-bodies hash,
// per-segment values) equals a from-scratch parse after body, #define, struct, multi-line and add/delete-function edits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProbeDocument, parseProbeFile } from '../../server/src/analysis/probe-document';
import { functionDependencyKey, functionOwnText } from '../../server/src/analysis/function-dependencies';
import { segmentMemo, topLevelLayout } from '../../server/src/analysis/top-level-segments';
import type { ProbeFile } from '../../server/src/analysis/probe-file';
import { arrayFieldLength, fieldDeclaration, structLayout } from '../../server/src/analysis/c-values';

const KERNEL = { major: 6, minor: 18, patch: 0 };
const TOOLS = join(__dirname, '../../../shared/realworld/libbpf-tools');
const BASE = ['bindsnoop.h', 'bindsnoop.bpf.c', 'capable.bpf.c', 'biopattern.bpf.c'].map((name) => readFileSync(join(TOOLS, name), 'utf8')).join('\n');

const ADDED = '\nstatic __always_inline int added_helper(int x)\n{\n\treturn x + MAX_ENTRIES;\n}\n';

/** Each edit: what it is, the text after it (from the text before), and whether it lies inside one body. */
const EDITS: [string, (text: string) => string, boolean][] = [
  ['a space typed at the end of a statement in a body', (t) => t.replace('\treturn 0;\n', '\treturn 0; \n'), true],
  ['two lines inserted in a body', (t) => t.replace('\treturn 0; \n', '\t__u32 a = 1;\n\ta += 2;\n\treturn 0;\n'), true],
  ['a #define value changed', (t) => t.replace('#define MAX_PORTS\t1024', '#define MAX_PORTS\t4096'), false],
  ['a #define giving an array field its length changed', (t) => t.replace('#define TASK_COMM_LEN\t16', '#define TASK_COMM_LEN\t32'), false],
  ['a field added to a struct', (t) => t.replace('struct unique_key {', 'struct unique_key {\n\t__u64 added;'), false],
  ['a function added', (t) => t + ADDED, false],
  ['a body edit in the added function', (t) => t.replace('x + MAX_ENTRIES', 'x * MAX_ENTRIES'), true],
  ['a stray closing brace typed in a body', (t) => t.replace('\t__u32 a = 1;\n', '\t__u32 a = 1;\n}\n'), false],
  ['the stray brace deleted', (t) => t.replace('\t__u32 a = 1;\n}\n', '\t__u32 a = 1;\n'), false],
  ['an edit across two functions', (t) => {
    const end = t.indexOf('\n}\n', t.indexOf('\ta += 2;')) + 1;
    return t.slice(0, t.indexOf('\ta += 2;')) + '\treturn a;\n}\n\nstatic int merged(void)\n{\n' + t.slice(end + 2);
  }, false],
  ['the added function deleted', (t) => t.replace(ADDED.replace('+', '*'), ''), false],
];

/** Everything the reuse feeds: the outside-bodies hash, per function its program types, own text and dependency key, struct fields and layouts. */
function facts(file: ProbeFile): { outsideBodies: string; functions: string[]; fields: string[] } {
  const words = [...new Set(file.text.match(/\b[A-Za-z_]\w*(?=(\[[^\]]*\])*;)/g))];
  return {
    outsideBodies: file.outsideBodiesHash,
    functions: file.functions.map((fn) => `${fn.name} ${fn.programTypes.join(",")} ${functionDependencyKey(file, fn)} ${functionOwnText(file, fn)}`),
    fields: words.map((word) => JSON.stringify([word, fieldDeclaration(file, word), arrayFieldLength(file, word), structLayout(file, `struct ${word}`)])),
  };
}

test('after each edit, what a version takes over from the previous one equals a from-scratch parse of its text', async () => {
  const document = await ProbeDocument.open('file:///top-level-reuse.bpf.c');
  try {
    let text = BASE;
    facts(document.update(text, KERNEL).file);
    for (const [index, [what, edit, insideBody]] of EDITS.entries()) {
      const edited = edit(text);
      assert.notEqual(edited, text, `${what}: the edit applies`);
      text = edited;
      const file = document.update(text, KERNEL).file;
      const incremental = facts(file);
      const previous = topLevelLayout(file).previous;
      assert.ok(previous, `${what}: lined up with the version before`);
      assert.equal(previous.bodyEdit, insideBody, `${what}: seen as an edit inside one body or not`);
      const kept = previous.same.filter((j) => j !== undefined).length;
      if (insideBody) assert.equal(kept, topLevelLayout(file).segments.length - 1, `${what}: every other segment is taken over`);
      const fresh = facts(await parseProbeFile(text, { uri: `file:///top-level-reuse-fresh-${index}.bpf.c`, targetKernel: KERNEL }));
      assert.equal(incremental.outsideBodies, fresh.outsideBodies, `${what}: outside-bodies hash`);
      assert.deepEqual(incremental.functions, fresh.functions, `${what}: functions, their own text and dependency keys`);
      assert.deepEqual(incremental.fields, fresh.fields, `${what}: struct fields and layouts`);
    }
  } finally {
    document.close();
  }
});

test('an edit that keeps the text outside bodies but changes the target kernel does not keep the outside-bodies hash', async () => {
  const document = await ProbeDocument.open('file:///top-level-reuse-kernel.bpf.c');
  try {
    const first = document.update(BASE, KERNEL).file.outsideBodiesHash;
    const edited = BASE.replace('\treturn 0;\n', '\treturn 0; \n');
    const file = document.update(edited, { major: 5, minor: 4, patch: 0 }).file;
    assert.equal(topLevelLayout(file).previous?.bodyEdit, true);
    assert.notEqual(file.outsideBodiesHash, first);
    assert.equal(file.outsideBodiesHash, (await parseProbeFile(edited, { uri: 'file:///top-level-reuse-kernel-fresh.bpf.c', targetKernel: { major: 5, minor: 4, patch: 0 } })).outsideBodiesHash);
  } finally {
    document.close();
  }
});

test('a value kept for a top-level segment is computed again only for the segments an edit touched', async () => {
  const document = await ProbeDocument.open('file:///top-level-reuse-memo.bpf.c');
  try {
    const computed: string[] = [];
    const countWords = (file: ProbeFile) => file.functions.map((fn) => segmentMemo(file, fn.node, 'words', () => {
      computed.push(fn.name);
      return file.textOf(fn.node).split(/\W+/).length;
    }));
    const first = document.update(BASE, KERNEL).file;
    countWords(first);
    assert.equal(computed.length, first.functions.length);
    computed.length = 0;
    const edited = BASE.replace('\treturn 0;\n', '\treturn 0 + 0;\n');
    const file = document.update(edited, KERNEL).file;
    const counts = countWords(file);
    const touched = file.functions.filter((fn) => file.textOf(fn.node).includes('return 0 + 0;')).map((fn) => fn.name);
    assert.deepEqual(computed, touched);
    const fresh = await parseProbeFile(edited, { uri: 'file:///top-level-reuse-memo-fresh.bpf.c', targetKernel: KERNEL });
    assert.deepEqual(counts, countWords(fresh));
  } finally {
    document.close();
  }
});
