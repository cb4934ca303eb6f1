// Syntax highlighting cost of eBPF C: tokenises a ~5,000-line probe file with our bpf-c grammar (C + the eBPF
// injection) and, in the same run, with the C grammar alone (VS Code's own C highlighting); prints both and the ratio.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IGrammar } from 'vscode-textmate';
import { createGrammarRegistry, tokenizeText } from '../textmate-registry';

const root = join(__dirname, '..', '..');
const TARGET_LINES = 5000;
const RUNS = 7;

/** Every template probe, repeated until the text has TARGET_LINES lines: real eBPF C, not synthetic. */
function probeText(): string {
  const dir = join(root, 'bpf-templates');
  const sources = readdirSync(dir)
    .map((name) => join(dir, name, `${name}.bpf.c`))
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path, 'utf8'));
  if (sources.length === 0) throw new Error('no bpf-templates/*/*.bpf.c to tokenise');
  const lines: string[] = [];
  for (let i = 0; lines.length < TARGET_LINES; i++) lines.push(...sources[i % sources.length].split('\n'));
  return lines.slice(0, TARGET_LINES).join('\n');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function loadGrammar(scopeName: string, withInjections: boolean): Promise<IGrammar> {
  const grammar = await (await createGrammarRegistry({ withInjections })).loadGrammar(scopeName);
  if (!grammar) throw new Error(`grammar ${scopeName} did not load`);
  return grammar;
}

function timeOnce(grammar: IGrammar, text: string): { ms: number; tokens: number } {
  const started = performance.now();
  const tokens = tokenizeText(grammar, text).length;
  return { ms: performance.now() - started, tokens };
}

async function main(): Promise<void> {
  const text = probeText();
  const lines = text.split('\n').length;
  const grammars = { ours: await loadGrammar('source.bpf-c', true), peer: await loadGrammar('source.c', false) };
  const times = { ours: [] as number[], peer: [] as number[] };
  const tokens = { ours: 0, peer: 0 };
  // Interleaved, after one warm-up each, so load from other processes hits both alike.
  for (let run = 0; run <= RUNS; run++) {
    for (const which of ['ours', 'peer'] as const) {
      const { ms, tokens: count } = timeOnce(grammars[which], text);
      tokens[which] = count;
      if (run > 0) times[which].push(ms);
    }
  }
  const ours = { ms: median(times.ours), tokens: tokens.ours };
  const peer = { ms: median(times.peer), tokens: tokens.peer };
  console.log(`full tokenisation of a ${lines}-line probe (median of ${RUNS} interleaved runs, warm):`);
  console.log(`  bpf-c grammar (C + eBPF injection): ${ours.ms.toFixed(1)} ms, ${ours.tokens} tokens, ${(ours.ms / lines * 1000).toFixed(1)} µs/line`);
  console.log(`  C grammar alone (VS Code's C):      ${peer.ms.toFixed(1)} ms, ${peer.tokens} tokens, ${(peer.ms / lines * 1000).toFixed(1)} µs/line`);
  console.log(`  ratio ours/peer: ${(ours.ms / peer.ms).toFixed(2)}×`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
