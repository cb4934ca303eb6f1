// Masking again around an edit only (remaskBpfMacros, and ProbeDocument across versions) gives exactly what masking the
// whole new text gives, on random edits and on edits people make, of every ../shared/realworld probe used in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { maskBpfMacros, remaskBpfMacros, type MaskState } from '../../server/src/analysis/bpf-macro-mask';
import { diffSpan, parseProbeFile, ProbeDocument } from '../../server/src/analysis/probe-document';

const KERNEL = { major: 6, minor: 1, patch: 0 };
const REALWORLD = resolve(__dirname, '..', '..', '..', 'shared', 'realworld');
const realworldSkip = existsSync(REALWORLD) ? false : process.env.CI === 'true' ? assert.fail(`needs ${REALWORLD}`) : `needs ${REALWORLD}`;

function probesIn(dir: string): { name: string; text: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return probesIn(path);
    return entry.name.endsWith('.bpf.c') ? [{ name: path.slice(REALWORLD.length + 1), text: readFileSync(path, 'utf8') }] : [];
  });
}

/** Text that changes how the masker reads what follows: comments, literals, directives, macros open and closed. */
const FRAGMENTS = [
  '/*', '*/', '//', '"', "'", '\n', '\\\n', '#define X \\\n', '#', '(', ')', ';', '{', '}', ',', ' ', 'x', '\t',
  'SEC("kprobe/x")', 'SEC(', 'SEC("a" "b")', '__section("tc")', 'BPF_KPROBE(fn, int a)', 'BPF_KPROBE(', 'BPF_PROG(fn)', '__uint(type, BPF_MAP_TYPE_HASH);',
  '__type(key, u32)', '__always_inline ', '__contains(node, n)', 'bpf_for(i, 0, 3)', 'bpf_core_type_exists(struct foo)', 'container_of(p, struct s, f)',
  ' '.repeat(1100), '\n'.repeat(40), `SEC(${' '.repeat(1030)}"late")`,
];

/** A small deterministic generator (the seed is in every failure message). */
function random(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % below;
  };
}

function randomEdit(text: string, next: (below: number) => number): string {
  const at = next(text.length + 1);
  const removed = next(4) === 0 ? next(200) : next(12);
  const kind = next(3);
  const copied = next(text.length);
  const insert = kind === 0 ? FRAGMENTS[next(FRAGMENTS.length)] : kind === 1 ? text.slice(copied, copied + next(300)) : '';
  return text.slice(0, at) + insert + text.slice(at + removed);
}

function assertSameMask(actual: MaskState, text: string, what: string): void {
  const whole = maskBpfMacros(text);
  assert.equal(actual.masked, whole.masked, `${what}: masked text`);
  assert.deepEqual(actual.macros, whole.macros, `${what}: macros`);
  assert.deepEqual(actual.cleanLineStarts, whole.cleanLineStarts, `${what}: clean line starts`);
}

/** Applies each version in turn through remaskBpfMacros, checking every step against a whole mask of that version. */
function remaskThrough(versions: string[], name: string): { remaskedChars: number; total: number } {
  let mask = maskBpfMacros(versions[0]);
  let remaskedChars = 0;
  let total = 0;
  versions.slice(1).forEach((text, index) => {
    const edit = diffSpan(versions[index], text);
    if (!edit) return;
    const result = remaskBpfMacros(mask, text, edit);
    mask = result.mask;
    remaskedChars += result.remasked.newEnd - result.remasked.start;
    total += text.length;
    assertSameMask(mask, text, `${name}, edit ${index + 1} at ${edit.start}`);
  });
  return { remaskedChars, total };
}

/** Edits people make: typing a word key by key, deleting a line, commenting a block out and back in, a #define continued. */
function realEdits(text: string): string[] {
  const lines = text.split('\n');
  const middle = lines.findIndex((line, index) => index > lines.length / 2 && /^\t\S.*;\s*$/.test(line));
  const at = middle < 0 ? Math.floor(lines.length / 2) : middle;
  const join = (edited: string[]) => edited.join('\n');
  const versions = [text];
  let typed = '\t';
  for (const key of 'bpf_ktime_get_ns();') {
    typed += key;
    versions.push(join([...lines.slice(0, at), typed, ...lines.slice(at)]));
  }
  versions.push(join([...lines.slice(0, at), ...lines.slice(at + 1)]));
  versions.push(join([...lines.slice(0, at), '/*', ...lines.slice(at)]));
  versions.push(join([...lines.slice(0, at), '/*', ...lines.slice(at, at + 5), '*/', ...lines.slice(at + 5)]));
  versions.push(join([...lines.slice(0, at), '#define LONG_ONE(x) \\', ...lines.slice(at)]));
  const section = lines.findIndex((line) => line.startsWith('SEC("'));
  if (section >= 0) {
    versions.push(join([...lines.slice(0, section), lines[section].replace('SEC("', 'SEC("x'), ...lines.slice(section + 1)]));
    versions.push(join([...lines.slice(0, section), lines[section].replace('SEC("', 'SEC('), ...lines.slice(section + 1)]));
  }
  versions.push(text);
  return versions;
}

test('masking again around random edits equals masking the whole new text (every realworld probe, 150 edits each)', { skip: realworldSkip }, () => {
  const probes = probesIn(REALWORLD);
  assert.ok(probes.length > 10, `only ${probes.length} probes under ${REALWORLD}`);
  probes.forEach((probe, index) => {
    const seed = 1000 + index;
    const next = random(seed);
    const versions = [probe.text];
    for (let edit = 0; edit < 150; edit++) versions.push(randomEdit(versions[versions.length - 1], next));
    remaskThrough(versions, `${probe.name} (seed ${seed})`);
  });
});

test('masking again around real edits equals masking the whole new text, and re-masks a few lines, not the file', { skip: realworldSkip }, () => {
  const probes = probesIn(REALWORLD);
  const all = probes.map((probe) => probe.text).join('\n');
  let remasked = 0;
  let total = 0;
  for (const probe of [...probes, { name: 'all probes concatenated', text: all }]) {
    const counts = remaskThrough(realEdits(probe.text), probe.name);
    remasked += counts.remaskedChars;
    total += counts.total;
  }
  // typing in a body re-masks about a screenful (the look-back of one macro and the edited lines), opening a comment more
  const typing = realEdits(all).slice(0, 20);
  const counts = remaskThrough(typing, 'typing in the concatenation');
  assert.ok(counts.remaskedChars < counts.total / 20, `typing re-masked ${counts.remaskedChars} of ${counts.total} characters`);
  assert.ok(remasked < total, `re-masked ${remasked} of ${total} characters`);
});

test('after an edit that opens a comment, directive, string or macro, masking again goes on until it closes', () => {
  const lines = Array.from({ length: 200 }, (_, index) => `int v${index} = ${index}; SEC("s${index}") int f${index}(void) { return ${index}; }`);
  const text = lines.join('\n');
  const cases = [
    ['unterminated comment', '/*'],
    ['closing a comment', '*/'],
    ['continued directive', '#define A \\'],
    ['open string', '"'],
    ['macro opened', 'BPF_KPROBE(x,'],
  ];
  for (const [name, insert] of cases) {
    const edited = [...lines.slice(0, 100), insert, ...lines.slice(100)].join('\n');
    remaskThrough([text, edited, text], name);
  }
});

test('a document updated edit by edit masks and parses like a fresh parse of each version', { skip: realworldSkip }, async () => {
  const probes = probesIn(REALWORLD);
  const text = probes.slice(0, 6).map((probe) => probe.text).join('\n');
  const document = await ProbeDocument.open('file:///incremental-mask.bpf.c');
  try {
    const next = random(7);
    let version = text;
    document.update(version, KERNEL);
    for (let edit = 0; edit < 40; edit++) {
      version = edit % 4 === 3 ? realEdits(version)[edit % 20] : randomEdit(version, next);
      const file = document.update(version, KERNEL).file;
      const fresh = await parseProbeFile(version, { targetKernel: KERNEL });
      assert.equal(file.maskedText, fresh.maskedText, `edit ${edit}: masked text`);
      assert.deepEqual(file.macros, fresh.macros, `edit ${edit}: macros`);
      assert.equal(file.tree.rootNode.toString(), fresh.tree.rootNode.toString(), `edit ${edit}: syntax tree`);
    }
    const same = document.update(version, KERNEL);
    assert.equal(same.file, document.file, 'the same text again keeps the parse');
  } finally {
    document.close();
  }
});
