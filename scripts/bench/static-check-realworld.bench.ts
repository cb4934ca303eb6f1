// Benchmark of tier-1 checking on real code over LSP: every ../shared/realworld probe and template alone, and all of them
// concatenated to ≥ 5,000 lines; edits and typing timed warm beside clangd's warm re-parse, first checks cold beside cold clang/clangd.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { PublishDiagnosticsParams } from 'vscode-languageserver-protocol';
import { LanguageServerProcess } from '../../test/lsp/language-server-process';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { checkProbeFile } from '../../server/src/rules/rule-engine';
import { allRules } from '../../server/src/rules/index';
import { runningKernelVersion } from '../../server/src/kernel/kernel-version';
import { vmlinuxIncludeDir } from '../corpus-verdicts';

const ROOT = join(__dirname, '..', '..');
const REALWORLD = join(ROOT, '..', 'shared', 'realworld');
const TARGET_LINES = 5000;
const ROUNDS = 10;
/** The server re-runs slow whole-file rules once typing has paused this long (server.ts IDLE_MS). */
const IDLE_MS = 300;
const WORD = 'bpf_ktime_get_ns';
/** Single files also measured with clangd (the largest ones; clangd rebuilds vmlinux.h's preamble per file). */
const CLANGD_FILES = 5;

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

/** CPU time (ms) the server's main thread has run so far: /proc/<pid>/schedstat's first field, steady under load unlike wall time. */
function serverCpuMs(pid: number | undefined): number {
  if (pid === undefined || !existsSync(`/proc/${pid}/schedstat`)) return NaN;
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

interface FileFigures {
  lines: number;
  openMs: number;
  /** didOpen → the publish that holds every finding of a full check (a first check runs in slices). */
  openAllMs: number;
  body: number[];
  struct: number[];
  define: number[];
  typing: number[];
  deferred: number[];
  completion: number[];
  /** The server's main-thread CPU from each didChange to its quick publish, per edit kind. */
  cpu: { body: number[]; struct: number[]; define: number[] };
}

/** Opens one file in a fresh server and edits it over LSP, timing didChange → publishDiagnostics of that version. */
async function measure(path: string, text: string, deferredRounds: boolean): Promise<FileFigures> {
  const server = new LanguageServerProcess();
  const lines = text.split('\n');
  // what a full check finds, worked out in this process before the server starts (the server publishes it last)
  const findingKey = (d: { code?: unknown; range: { start: { line: number; character: number } }; message: unknown }) => `${String(d.code)} ${d.range.start.line}:${d.range.start.character} ${JSON.stringify(d.message)}`;
  const fullCheck = checkProbeFile(await parseProbeFile(text, { targetKernel: runningKernelVersion() }), allRules).map(findingKey).sort().join('\n');
  const figures: FileFigures = { lines: lines.length, openMs: NaN, openAllMs: NaN, body: [], struct: [], define: [], typing: [], deferred: [], completion: [], cpu: { body: [], struct: [], define: [] } };
  let version = 1;
  let latest: PublishDiagnosticsParams | undefined;
  try {
    await server.initialize({ settings: { targetKernel: '' } });
    let start = performance.now();
    const uri = await server.open(path, text);
    await server.waitForDiagnostics(uri, (p) => p.version === 1, 60_000);
    figures.openMs = performance.now() - start;
    await server.waitForDiagnostics(uri, (p) => p.version === 1 && p.diagnostics.map(findingKey).sort().join('\n') === fullCheck, 60_000);
    figures.openAllMs = performance.now() - start;
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2));

    let editCpuMs = NaN;
    /** Inserts `insert` at (line, column); returns ms to the quick publish (its server CPU in editCpuMs), and records the deferred one's extra time. */
    const edit = async (line: number, column: number, insert: string, removeLength = 0, waitForDeferred = false): Promise<number> => {
      version++;
      const target = version;
      const cpuBefore = serverCpuMs(server.pid);
      start = performance.now();
      await server.change(uri, target, [{ range: { start: { line, character: column }, end: { line, character: column + removeLength } }, text: insert }]);
      await server.waitForDiagnostics(uri, (p) => (p.version === target ? ((latest = p), true) : false), 60_000);
      const quickMs = performance.now() - start;
      editCpuMs = serverCpuMs(server.pid) - cpuBefore;
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
        figures.cpu[kind].push(editCpuMs);
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

interface ClangdFigures {
  /** didOpen → first publishDiagnostics: a cold clangd building the preamble (vmlinux.h) and the AST. */
  openMs: number;
  /** The same body edit as ours (a comment appended to the line, then removed), didChange → its publishDiagnostics. */
  body: number[];
}

/** clangd-19 over LSP on one file, the flags given as fallback flags; edits as the bench makes on our server. */
async function measureClangd(path: string, text: string, bodyLine: number | undefined, flags: string[]): Promise<ClangdFigures | null> {
  const binary = ['clangd-19', 'clangd'].find((name) => spawnSync(name, ['--version']).status === 0);
  if (!binary) return null;
  const child = spawn(binary, ['--log=error', '--background-index=false', '--clang-tidy=false', '-j=1'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published: { version?: number; at: number }[] = [];
  let wake: (() => void) | undefined;
  connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
    published.push({ version: params.version, at: performance.now() });
    wake?.();
  });
  connection.onRequest(() => null);
  connection.listen();
  const waitFor = async (version: number): Promise<number> => {
    const deadline = performance.now() + 120_000;
    for (;;) {
      const hit = published.find((p) => p.version === version);
      if (hit) return hit.at;
      if (performance.now() > deadline) throw new Error(`clangd published nothing for version ${version}`);
      await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, 1000)));
    }
  };
  const figures: ClangdFigures = { openMs: NaN, body: [] };
  try {
    await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { textDocument: { publishDiagnostics: { versionSupport: true } } }, initializationOptions: { fallbackFlags: flags } });
    await connection.sendNotification('initialized', {});
    const uri = pathToFileURL(path).toString();
    let start = performance.now();
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
    figures.openMs = (await waitFor(1)) - start;
    if (bodyLine !== undefined) {
      const column = text.split('\n')[bodyLine].length;
      let version = 1;
      for (let round = 0; round < ROUNDS; round++) {
        const comment = ` /* body ${round} */`;
        for (const [insert, remove] of [[comment, 0], ['', comment.length]] as const) {
          version++;
          start = performance.now();
          await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range: { start: { line: bodyLine, character: column }, end: { line: bodyLine, character: column + remove } }, text: insert }] });
          const took = (await waitFor(version)) - start;
          if (insert) figures.body.push(took);
        }
      }
    }
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
  } finally {
    connection.dispose();
    if (child.exitCode === null) child.kill();
  }
  return figures;
}

/** clang-19 -fsyntax-only on the file: a fresh process each run (clang keeps nothing between runs), file cache warm. */
function clangFlags(includeDirs: string[]): string[] {
  return ['-target', 'bpf', '-D__TARGET_ARCH_x86', ...includeDirs.map((d) => `-I${d}`)];
}

function clangSyntaxOnly(path: string, includeDirs: string[]): { ms: number; ok: boolean } {
  const runs: number[] = [];
  let ok = true;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    const run = spawnSync('clang-19', ['-fsyntax-only', '-ferror-limit=0', ...clangFlags(includeDirs), path], { encoding: 'utf8' });
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
    console.log('clang-19 -fsyntax-only: a fresh process per run (it has no warm mode), file cache warm; it re-reads every header (vmlinux.h included) each time');
    console.log('clangd: a fresh clangd per file over stdio (the same flags as fallback flags); open is cold (preamble + AST), a body edit is its warm re-parse with the preamble reused\n');

    const parts: string[] = [];
    let total = 0;
    for (let i = 0; total < TARGET_LINES; i++) {
      const probe = probes[i % probes.length];
      parts.push(`// ---- ${probe.name}\n${probe.text}`);
      total += probe.text.split('\n').length + 1;
    }
    const concatenated = join(dir, 'realworld-concatenated.bpf.c');
    writeFileSync(concatenated, parts.join('\n'));

    const load = () => `load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
    const includeDirsOf = (paths: string[]) => [...new Set(paths.map((path) => dirname(path))), vmlinux];
    const rows: { name: string; figures: FileFigures; clang: { ms: number; ok: boolean }; clangd: ClangdFigures | null }[] = [];
    console.log('| file | lines | open → first diagnostics (cold file, warm process) | open → all findings (cold) | body edit median / p90 (warm) | struct edit median (warm) | #define edit median (warm) | server CPU per edit, median: body / struct / #define | typing a word, per key median / p90 (warm) | deferred rules after the pause (warm) | completion median (warm) | clang -fsyntax-only (cold process) | clangd open → diagnostics (cold) | clangd body edit median (warm) |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    const printRow = ({ name, figures: f, clang, clangd }: (typeof rows)[number]) =>
      console.log(
        `| ${name} | ${f.lines} | ${fmt(f.openMs)} | ${fmt(f.openAllMs)} | ${fmt(median(f.body))} / ${fmt(p90(f.body))} | ${fmt(median(f.struct))} | ${fmt(median(f.define))} | ${fmt(median(f.cpu.body))} / ${fmt(median(f.cpu.struct))} / ${fmt(median(f.cpu.define))} | ${fmt(median(f.typing))} / ${fmt(p90(f.typing))} | ${f.deferred.length ? fmt(median(f.deferred)) : '-'} | ${fmt(median(f.completion))} | ${fmt(clang.ms)}${clang.ok ? '' : ' (exits with errors)'} | ${clangd ? fmt(clangd.openMs) : '-'} | ${clangd ? fmt(median(clangd.body)) : '-'} |`,
      );
    const bigText = parts.join('\n');
    const bigIncludes = includeDirsOf(probes.map((p) => p.path));
    const big = await measure(concatenated, bigText, true);
    const bigClangd = await measureClangd(concatenated, bigText, editSites(bigText).body, clangFlags(bigIncludes));
    rows.push({ name: `all concatenated (${probes.length} files, in turn to ${TARGET_LINES}+ lines)`, figures: big, clang: clangSyntaxOnly(concatenated, bigIncludes), clangd: bigClangd });
    printRow(rows[0]);
    const largest = new Set([...probes].sort((a, b) => b.text.length - a.text.length).slice(0, CLANGD_FILES).map((p) => p.path));
    for (const probe of probes) {
      const clangd = largest.has(probe.path) ? await measureClangd(probe.path, probe.text, editSites(probe.text).body, clangFlags(includeDirsOf([probe.path]))) : null;
      rows.push({ name: probe.name, figures: await measure(probe.path, probe.text, false), clang: clangSyntaxOnly(probe.path, includeDirsOf([probe.path])), clangd });
      printRow(rows[rows.length - 1]);
    }
    const all = rows.slice(1).map((r) => r.figures);
    const pooled = (pick: (f: FileFigures) => number[]) => all.flatMap(pick);
    const ratio = (ours: number, theirs: number) => (theirs >= ours ? `${(theirs / ours).toFixed(1)}x faster than` : `${(ours / theirs).toFixed(1)}x slower than`);
    console.log(`\nsingle files pooled, warm: body edit median ${fmt(median(pooled((f) => f.body)))} p90 ${fmt(p90(pooled((f) => f.body)))} (targets < 10 / < 20 ms); top-level edit median ${fmt(median(pooled((f) => [...f.struct, ...f.define])))} (target < 30 ms); typing per key median ${fmt(median(pooled((f) => f.typing)))}; completion median ${fmt(median(pooled((f) => f.completion)))} (target < 5 ms)`);
    console.log(`${TARGET_LINES}+ lines: cold open → first diagnostics ${fmt(big.openMs)} (target < 300 ms), → all findings ${fmt(big.openAllMs)}; warm body edit median ${fmt(median(big.body))} p90 ${fmt(p90(big.body))} (server CPU median ${fmt(median(big.cpu.body))} p90 ${fmt(p90(big.cpu.body))}); warm top-level edit median ${fmt(median([...big.struct, ...big.define]))} (server CPU: struct ${fmt(median(big.cpu.struct))}, #define ${fmt(median(big.cpu.define))}); ${load()}; deferred whole-file rules ${big.deferred.length ? fmt(median(big.deferred)) : 'none deferred'} after the pause (target < 50 ms)`);
    if (bigClangd) console.log(`warm vs warm on the ${TARGET_LINES}+ lines: our body edit median ${fmt(median(big.body))} is ${ratio(median(big.body), median(bigClangd.body))} clangd's warm re-parse of the same edit (${fmt(median(bigClangd.body))}, clangd's own update debounce included)`);
    else console.log('warm vs warm: clangd-19/clangd not found, no warm comparison');
    console.log(`cold vs cold on the ${TARGET_LINES}+ lines: our first full check (all findings) ${fmt(big.openAllMs)} is ${ratio(big.openAllMs, rows[0].clang.ms)} clang-19 -fsyntax-only (${fmt(rows[0].clang.ms)}, fresh process)${bigClangd ? ` and ${ratio(big.openAllMs, bigClangd.openMs)} clangd's first diagnostics (${fmt(bigClangd.openMs)})` : ''}`);
    console.log(`machine after the run: ${load()} on ${cpus().length} CPUs (loaded-machine figures when above ~1)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
