// Expands every snippet of snippets/bpf-c.json with its default values and checks the result:
// tree-sitter C (the language server's parser, BPF macros masked) finds no syntax error, and clang-19 compiles it for BPF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCParser, loadCLanguage } from '../../server/src/analysis/c-parser';
import { maskBpfMacros } from '../../server/src/analysis/bpf-macro-mask';
import { runningKernelVersion } from '../../server/src/kernel/kernel-version';
import { checkText } from '../../cli/src/check-command';

const root = join(__dirname, '..', '..');
const snippets = JSON.parse(readFileSync(join(root, 'snippets', 'bpf-c.json'), 'utf8')) as Record<string, { prefix: string[]; body: string[]; description: string }>;

/**
 * Expands VS Code snippet syntax as accepting every default would: `${1:default}` → default (nested
 * tabstops expanded), `${1|a,b|}` → a, `$1`/`${1}` → the value of tabstop 1, `$0` → nothing.
 */
function expandSnippet(body: string): string {
  const values = new Map<string, string>();
  let pos = 0;
  const parse = (stopAt: string | undefined): string => {
    let out = '';
    while (pos < body.length) {
      const ch = body[pos];
      if (stopAt && ch === stopAt) return out;
      if (ch === '\\' && pos + 1 < body.length) {
        out += body[pos + 1];
        pos += 2;
      } else if (ch === '$' && body[pos + 1] === '{') {
        const m = /^\$\{(\d+)([:|}])/.exec(body.slice(pos));
        assert.ok(m, `unsupported snippet syntax at ${body.slice(pos, pos + 20)}`);
        const [whole, index, kind] = m;
        pos += whole.length;
        if (kind === ':') {
          const value = parse('}');
          pos += 1;
          if (!values.has(index)) values.set(index, value);
          out += value;
        } else if (kind === '|') {
          const end = body.indexOf('|}', pos);
          const value = body.slice(pos, end).split(',')[0];
          pos = end + 2;
          if (!values.has(index)) values.set(index, value);
          out += value;
        } else {
          out += `\uE000${index}\uE000`;
        }
      } else if (ch === '$' && /\d/.test(body[pos + 1] ?? '')) {
        const index = /^\$(\d+)/.exec(body.slice(pos))![1];
        pos += index.length + 1;
        out += `\uE000${index}\uE000`;
      } else {
        out += ch;
        pos += 1;
      }
    }
    return out;
  };
  const text = parse(undefined);
  let resolved = text;
  for (let round = 0; round < 5 && resolved.includes('\uE000'); round++) {
    resolved = resolved.replace(/\uE000(\d+)\uE000/g, (_all, index: string) => (index === '0' ? '' : (values.get(index) ?? '')));
    for (const [k, v] of values) values.set(k, v.replace(/\uE000(\d+)\uE000/g, (_all, index: string) => values.get(index) ?? ''));
  }
  return resolved;
}

const expanded = Object.entries(snippets).map(([name, snippet]) => ({ name, text: expandSnippet(snippet.body.join('\n')) }));

test('snippet expansion resolves defaults, choices and mirrors', () => {
  assert.equal(expandSnippet('int ${1:handle_$2}(${2:x}) { return ${3|XDP_PASS,XDP_DROP|}; } $1 $0'), 'int handle_x(x) { return XDP_PASS; } handle_x ');
});

test('the snippets cover maps, program skeletons, the histogram and the licence', () => {
  const prefixes = Object.values(snippets).flatMap((s) => s.prefix);
  for (const expected of ['map-hash', 'map-array', 'map-percpu', 'map-ringbuf', 'prog-tracepoint', 'prog-tp_btf', 'prog-fentry', 'prog-kprobe', 'prog-xdp', 'prog-tc', 'prog-uprobe', 'hist-log2', 'license']) {
    assert.ok(prefixes.includes(expected), `no snippet with prefix ${expected}`);
  }
  for (const [name, snippet] of Object.entries(snippets)) assert.ok(snippet.description.length > 10, `${name} needs a description`);
  const histogram = expanded.find((s) => s.name === 'log2 histogram');
  assert.match(histogram?.text ?? '', /if \(slot >= MAX_SLOTS\)\s+slot = MAX_SLOTS - 1;/);
});

test('every snippet parses without a syntax error (tree-sitter C, BPF macros masked as the server does)', async () => {
  await loadCLanguage();
  const parser = await createCParser();
  for (const { name, text } of expanded) {
    const tree = parser.parse(maskBpfMacros(text).masked);
    assert.ok(tree, `${name}: no parse tree`);
    const errors: string[] = [];
    const visit = (node: NonNullable<typeof tree>['rootNode']): void => {
      if (node.type === 'ERROR' || node.isMissing) errors.push(`${node.type} at ${node.startPosition.row + 1}:${node.startPosition.column + 1} "${node.text.slice(0, 40)}"`);
      for (const child of node.children) if (child) visit(child);
    };
    visit(tree.rootNode);
    assert.deepEqual(errors, [], `${name}:\n${text}`);
    tree.delete();
  }
  parser.delete();
});

const PROBE_HEADER = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_tracing.h>\n#include <bpf/bpf_core_read.h>\n';

/** A snippet as a whole probe file: the usual includes, the snippet, and a licence unless it is the licence. */
function asProbeFile(text: string): string {
  return PROBE_HEADER + text + (text.includes('SEC("license")') ? '' : '\nchar LICENSE[] SEC("license") = "GPL";\n');
}

test('no snippet draws a static-rule finding (the rules the language server runs as you type)', async () => {
  const findings: string[] = [];
  for (const { name, text } of expanded) {
    for (const d of await checkText(asProbeFile(text), `/snippets/${name}.bpf.c`, runningKernelVersion())) {
      if ((d.severity ?? 1) <= 2) findings.push(`${name}:${d.range.start.line + 1}: [${String(d.code)}] ${d.message}`);
    }
  }
  assert.deepEqual(findings, []);
});

function missingCompilePrerequisite(): string | undefined {
  if (!existsSync('/usr/bin/clang-19')) return 'clang-19 (/usr/bin/clang-19)';
  if (!existsSync('/usr/include/bpf/bpf_helpers.h')) return 'libbpf-dev (/usr/include/bpf/bpf_helpers.h)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'kernel BTF (/sys/kernel/btf/vmlinux) for vmlinux.h';
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' });
  } catch {
    return 'bpftool (for vmlinux.h)';
  }
  return undefined;
}

const missing = missingCompilePrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`bpf-snippets test needs ${missing} in CI`);

test('every snippet compiles for BPF with clang-19 against vmlinux.h', { skip: missing ? `missing ${missing}` : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-snippets-'));
  try {
    writeFileSync(join(dir, 'vmlinux.h'), execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 256 * 1024 * 1024 }));
    const targetArch = { x64: 'x86', arm64: 'arm64', s390x: 's390', ppc64: 'powerpc', riscv64: 'riscv' }[arch()] ?? arch();
    const results = await Promise.all(
      expanded.map(async ({ name, text }, index) => {
        const file = join(dir, `snippet-${index}.bpf.c`);
        writeFileSync(file, asProbeFile(text));
        try {
          await promisify(execFile)('/usr/bin/clang-19', ['-fsyntax-only', '-Werror', '-Wno-unused-variable', '-Wno-unused-function', '-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${targetArch}`, '-I', dir, file]);
          return undefined;
        } catch (error) {
          return `${name}:\n${(error as { stderr?: string }).stderr ?? String(error)}`;
        }
      }),
    );
    assert.deepEqual(results.filter(Boolean), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
