// Loads the project's TextMate grammars (syntaxes/) into vscode-textmate with the oniguruma wasm, injected into
// tm-grammars' C grammar as package.json's contributes.grammars declares, the way VS Code does. Used by tests and bench.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const root = join(__dirname, '..');

const grammarFiles: Record<string, string> = {
  'source.c': require.resolve('tm-grammars/grammars/c.json'),
  'source.bpf-c': join(root, 'syntaxes', 'bpf-c.tmLanguage.json'),
  'source.ebpf.injection': join(root, 'syntaxes', 'ebpf.injection.tmLanguage.json'),
};

/** Injections as the manifest declares them (contributes.grammars[].injectTo). */
function manifestInjections(): Map<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: { grammars: { scopeName: string; injectTo?: string[] }[] };
  };
  const injections = new Map<string, string[]>();
  for (const grammar of pkg.contributes.grammars) {
    for (const host of grammar.injectTo ?? []) injections.set(host, [...(injections.get(host) ?? []), grammar.scopeName]);
  }
  return injections;
}

let onigLoaded: Promise<void> | undefined;

/** A registry holding C, bpf-c and the eBPF injection; `withInjections: false` gives plain C highlighting. */
export async function createGrammarRegistry({ withInjections = true } = {}): Promise<textmate.Registry> {
  onigLoaded ??= (async () => {
    const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  })();
  await onigLoaded;
  const injections = withInjections ? manifestInjections() : new Map<string, string[]>();
  return new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources: string[]) => new oniguruma.OnigScanner(sources),
      createOnigString: (text: string) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      const file = grammarFiles[scopeName];
      return file ? textmate.parseRawGrammar(readFileSync(file, 'utf8'), file) : null;
    },
    getInjections: (scopeName) => injections.get(scopeName),
  });
}

export interface Token {
  text: string;
  scopes: string[];
}

/** Tokenises a whole text line by line, carrying the rule stack as an editor does. */
export function tokenizeText(grammar: textmate.IGrammar, source: string): Token[] {
  let state = textmate.INITIAL;
  const tokens: Token[] = [];
  for (const line of source.split('\n')) {
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) tokens.push({ text: line.slice(token.startIndex, token.endIndex), scopes: token.scopes });
    state = result.ruleStack;
  }
  return tokens;
}
