// Loads web-tree-sitter and the tree-sitter-c grammar (both .wasm) once per process. Looks for the
// .wasm files next to the running bundle (dist/) first, then in node_modules up the directory tree.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
// `import = require` makes esbuild bundle web-tree-sitter's CommonJS build; its ES module build
// needs import.meta.url, which a CommonJS bundle does not have.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
import webTreeSitter = require('web-tree-sitter');

const { Parser, Language } = webTreeSitter;
type Parser = webTreeSitter.Parser;
type Language = webTreeSitter.Language;

function findFile(fileName: string, packagePath: string): string {
  const candidates: string[] = [];
  for (let dir = __dirname; ; dir = dirname(dir)) {
    candidates.push(join(dir, fileName), join(dir, 'dist', fileName), join(dir, 'node_modules', packagePath));
    if (dirname(dir) === dir) break;
  }
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`cannot find ${fileName} (looked next to ${__dirname} and in node_modules)`);
  return found;
}

let language: Promise<Language> | undefined;

/** The C language, loaded once; the first call initialises the tree-sitter runtime. */
export function loadCLanguage(): Promise<Language> {
  language ??= (async () => {
    // Baseline-compiled WebAssembly only: the optimising tier-up of the lexer and parser cost more CPU than it
    // saved on a first check (5,000-line file: 400-500 -> 200 ms CPU to parse, whole first check 1.3-1.9 -> 1.0-1.2 s),
    // and warm edits measured the same either way (body edit 34-35 ms, #define edit 450-500 ms CPU).
    setFlagsFromString('--liftoff-only');
    const runtimeWasm = findFile('tree-sitter.wasm', 'web-tree-sitter/tree-sitter.wasm');
    await Parser.init({ locateFile: () => runtimeWasm });
    return Language.load(findFile('tree-sitter-c.wasm', 'tree-sitter-c/tree-sitter-c.wasm'));
  })();
  return language;
}

/** A new parser for C. Parsers are cheap; each open document keeps its own. */
export async function createCParser(): Promise<Parser> {
  const cLanguage = await loadCLanguage();
  const parser = new Parser();
  parser.setLanguage(cLanguage);
  return parser;
}
