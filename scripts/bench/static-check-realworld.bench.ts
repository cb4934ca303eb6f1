// Benchmark of tier-1 checking on real code over LSP: every ../shared/realworld probe and template alone, and all
// of them concatenated to ≥ 5,000 lines; body, struct and #define edits and a word typed key by key, beside clang-19 -fsyntax-only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { LanguageServerProcess } from '../../test/lsp/language-server-process';
import { vmlinuxIncludeDir } from '../corpus-verdicts';

const ROOT = join(__dirname, '..', '..');
const REALWORLD = join(ROOT, '..', 'shared', 'realworld');
const TARGET_LINES = 5000;
const ROUNDS = 10;
/** The server re-runs slow whole-file rules once typing has paused this long (server.ts IDLE_MS). */
const IDLE_MS = 300;
const WORD = 'bpf_ktime_get_ns';

interface Probe {
  name: string;
  path: string;
  text: string;
}

function probesIn(dir: string): Probe[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return probesIn(path);
    return entry.name.endsWith('.bpf.c') ? [{ name: `${basename(dir)}/${entry.name}`, path, text: readFileSync(path, 'utf8') }] : [];
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)] ?? NaN;
const fmt = (ms: number) => (Number.isNaN(ms) ? '-' : `${ms.toFixed(1)} ms`);

/** Edit sites: a statement line inside a function body, a struct field line and a #define line (0-based). */
function editSites(text: string): { body?: number; struct?: number; define?: number } {
  const lines = text.split('\n');
  const middle = Math.floor(lines.length / 2);
  const order = [...lines.keys()].sort((a, b) => Math.abs(a - middle) - Math.abs(b - middle));
  let depth = 0;
  const depthAt: number[] = [];
  let inStruct = false;
  const structLines = new Set<number>();
  lines.forEach((line, index) => {
    if (/^struct\s+\w+\s*\{\s*$/.test(line)) inStruct = true;
    else if (inStruct && /^\};/.test(line)) inStruct = false;
    else if (inStruct && /^\s+[\w ]+[\w\]];\s*$/.test(line)) structLines.add(index);
    depthAt.push(depth);
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
  });
  return {
    body: order.find((i) => depthAt[i] >= 1 && /^\t\S.*;\s*$/.test(lines[i]) && !structLines.has(i) && !/^\t(return|__u|u\d|int|char|struct)\b/.test(lines[i])),
    struct: order.find((i) => structLines.has(i)),
    define: order.find((i) => /^#define\s+\w+\s+\S/.test(lines[i])),
  };
}

interface FileFigures {
  lines: number;
  openMs: number;
  body: number[];
  struct: number[];
  define: number[];
  typing: number[];
  deferred: number[];
  completion: number[];
}

/** Opens one file in a fresh server and edits it over LSP, timing didChange → publishDiagnostics of that version. */
async function measure(path: string, text: string, deferredRounds: boolean): Promise<FileFigures> {
  const server = new LanguageServerProcess();
  const lines = text.split('\n');
  const figures: FileFigures = { lines: lines.length, openMs: NaN, body: [], struct: [], define: [], typing: [], deferred: [], completion: [] };
  let version = 1;
  let latest: PublishDiagnosticsParams | undefined;
  try {
    await server.initialize({ settings: { targetKernel: '' } });
    let start = performance.now();
    const uri = await server.open(path, text);
    await server.waitForDiagnostics(uri, (p) => p.version === 1, 60_000);
    figures.openMs = performance.now() - start;
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2));

    /** Inserts `insert` at (line, column); returns ms to the quick publish, and records the deferred one's extra time. */
    const edit = async (line: number, column: number, insert: string, removeLength = 0, waitForDeferred = false): Promise<number> => {
      version++;
      const target = version;
      start = performance.now();
      await server.change(uri, target, [{ range: { start: { line, character: column }, end: { line, character: column + removeLength } }, text: insert }]);
      await server.waitForDiagnostics(uri, (p) => (p.version === target ? ((latest = p), true) : false), 60_000);
      const quickMs = performance.now() - start;
      if (waitForDeferred) {
        const quick = latest;
        const full = await server
          // the publish of the slow whole-file rules comes once typing has paused IDLE_MS (an earlier one repeats the quick set)
          .waitForDiagnostics(uri, (p) => p.version === target && p !== quick && performance.now() - start >= quickMs + IDLE_MS, IDLE_MS * 4)
          .then(() => performance.now() - start)
          .catch(() => undefined);
        if (full !== undefined) figures.deferred.push(full - quickMs - IDLE_MS);
      }
      return quickMs;
    };

    const sites = editSites(text);
    const rounds: ['body' | 'struct' | 'define', number | undefined][] = [['body', sites.body], ['struct', sites.struct], ['define', sites.define]];
    for (const [kind, line] of rounds) {
      if (line === undefined) continue;
      const column = lines[line].length;
      for (let round = 0; round < ROUNDS; round++) {
        const comment = ` /* ${kind} ${round} */`;
        figures[kind].push(await edit(line, column, comment, 0, deferredRounds && round % 5 === 4));
        await edit(line, column, '', comment.length);
      }
    }
    if (sites.body !== undefined) {
      // a new statement typed key by key at the start of a body line: 'bpf_ktime_get_ns();'
      const line = sites.body;
      let column = 1;
      await edit(line, 0, '\t\n');
      for (const key of `${WORD}();`) {
        figures.typing.push(await edit(line, column, key));
        column++;
      }
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2));
      for (let round = 0; round < ROUNDS; round++) {
        start = performance.now();
        await server.connection.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line, character: 4 } });
        figures.completion.push(performance.now() - start);
      }
    }
  } finally {
    await server.shutdown();
  }
  return figures;
}

/** clang-19 -fsyntax-only on the file: a fresh process each run (clang keeps nothing between runs), file cache warm. */
function clangSyntaxOnly(path: string, includeDirs: string[]): { ms: number; ok: boolean } {
  const runs: number[] = [];
  let ok = true;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    const run = spawnSync('clang-19', ['-fsyntax-only', '-ferror-limit=0', '-target', 'bpf', '-D__TARGET_ARCH_x86', ...includeDirs.map((d) => `-I${d}`), path], { encoding: 'utf8' });
    runs.push(performance.now() - start);
    ok = run.status === 0;
  }
  return { ms: median(runs), ok };
}

async function main(): Promise<void> {
  const probes = [...probesIn(REALWORLD), ...probesIn(join(ROOT, 'bpf-templates'))];
  if (probes.length === 0) throw new Error(`no probes under ${REALWORLD} or bpf-templates`);
  const vmlinux = vmlinuxIncludeDir();
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-bench-realworld-'));
  try {
    console.log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (wall-clock figures grow with the load)`);
    console.log('ebpf-studio: a fresh language server per file over stdio; each edit timed from didChange to the publishDiagnostics of its version');
    console.log('clang-19 -fsyntax-only: a fresh process per run (it has no warm mode), file cache warm; it re-reads every header (vmlinux.h included) each time\n');

    const parts: string[] = [];
    let total = 0;
    for (let i = 0; total < TARGET_LINES; i++) {
      const probe = probes[i % probes.length];
      parts.push(`// ---- ${probe.name}\n${probe.text}`);
      total += probe.text.split('\n').length + 1;
    }
    const concatenated = join(dir, 'realworld-concatenated.bpf.c');
    writeFileSync(concatenated, parts.join('\n'));

    const rows: { name: string; figures: FileFigures; clang: { ms: number; ok: boolean } }[] = [];
    console.log('| file | lines | open → first diagnostics | body edit median / p90 | struct edit median | #define edit median | typing a word, per key median / p90 | deferred rules after the pause | completion median | clang -fsyntax-only |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    const printRow = ({ name, figures: f, clang }: (typeof rows)[number]) =>
      console.log(
        `| ${name} | ${f.lines} | ${fmt(f.openMs)} | ${fmt(median(f.body))} / ${fmt(p90(f.body))} | ${fmt(median(f.struct))} | ${fmt(median(f.define))} | ${fmt(median(f.typing))} / ${fmt(p90(f.typing))} | ${f.deferred.length ? fmt(median(f.deferred)) : '-'} | ${fmt(median(f.completion))} | ${fmt(clang.ms)}${clang.ok ? '' : ' (with errors: the concatenation redefines names)'} |`,
      );
    const big = await measure(concatenated, parts.join('\n'), true);
    rows.push({ name: `all concatenated (${probes.length} files, in turn to ${TARGET_LINES}+ lines)`, figures: big, clang: clangSyntaxOnly(concatenated, [...new Set(probes.map((p) => dirname(p.path))), vmlinux]) });
    printRow(rows[0]);
    for (const probe of probes) {
      rows.push({ name: probe.name, figures: await measure(probe.path, probe.text, false), clang: clangSyntaxOnly(probe.path, [dirname(probe.path), vmlinux]) });
      printRow(rows[rows.length - 1]);
    }
    const all = rows.slice(1).map((r) => r.figures);
    const pooled = (pick: (f: FileFigures) => number[]) => all.flatMap(pick);
    console.log(`\nsingle files pooled: body edit median ${fmt(median(pooled((f) => f.body)))} p90 ${fmt(p90(pooled((f) => f.body)))} (targets < 10 / < 20 ms); top-level edit median ${fmt(median(pooled((f) => [...f.struct, ...f.define])))} (target < 30 ms); typing per key median ${fmt(median(pooled((f) => f.typing)))}; completion median ${fmt(median(pooled((f) => f.completion)))} (target < 5 ms)`);
    console.log(`${TARGET_LINES}+ lines: open → first diagnostics ${fmt(big.openMs)} (target < 300 ms); body edit median ${fmt(median(big.body))} p90 ${fmt(p90(big.body))}; top-level edit median ${fmt(median([...big.struct, ...big.define]))}; deferred whole-file rules ${big.deferred.length ? fmt(median(big.deferred)) : 'none deferred'} after the pause (target < 50 ms)`);
    console.log(`ratio: clang-19 -fsyntax-only (${fmt(rows[0].clang.ms)}) / body edit over LSP (${fmt(median(big.body))}) on the concatenation = ${(rows[0].clang.ms / median(big.body)).toFixed(1)}x`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
