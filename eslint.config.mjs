// Lint configuration: typescript-eslint's recommended rules for all sources, and the layers (docs/architecture.md)
// kept by no-restricted-imports: who may import `vscode`, and which top-level parts each part may import.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const vscodeOnlyInClient = { name: 'vscode', message: 'Only client/ may import vscode.' };

/** A pattern for relative imports that reach one of the top-level `parts` (from any depth). */
function partsPattern(parts, message) {
  return { regex: `^(\\.\\./)+(${parts.join('|')})(/|$)`, message };
}

/** no-restricted-imports for one layer; `vscode` stays forbidden outside client/ and the editor tests. */
function layer(files, patterns, paths = [vscodeOnlyInClient]) {
  return { files, rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**', '**/*.js', '**/*.mjs', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-restricted-imports': ['error', { paths: [vscodeOnlyInClient] }],
    },
  },
  layer(['protocol/**/*.ts'], [{ regex: '^\\.\\./', message: 'protocol/ is the shared vocabulary: it imports nothing else of the project.' }]),
  layer(['engine/**/*.ts'], [partsPattern(['server', 'client', 'cli', 'agent', 'webviews'], 'engine/ is shared by the editor and the CLI: it imports only protocol/ (the language server answers over LSP, the agent over its RPC).')]),
  layer(['agent/**/*.ts'], [partsPattern(['engine', 'server', 'client', 'cli', 'webviews'], 'agent/ runs on the target on its own: it imports only protocol/.')]),
  layer(['server/**/*.ts'], [partsPattern(['engine', 'client', 'cli', 'agent', 'webviews'], 'The language server imports only protocol/; editor-side work belongs in engine/ or client/.')]),
  layer(['cli/**/*.ts'], [partsPattern(['client', 'webviews'], 'The CLI runs without an editor: it imports engine/, server/ analysis, agent/ and protocol/, never client/ or webviews/.')]),
  layer(['client/**/*.ts'], [partsPattern(['server', 'cli', 'agent', 'webviews'], 'client/ reaches the language server over LSP and the agent through engine/; it imports only engine/ and protocol/.')], []),
  layer(['webviews/**/*.ts'], [
    partsPattern(['server', 'client', 'cli', 'agent'], 'webviews run in the browser: they import protocol/, webviews/shared and the pure models of engine/btf and engine/live-data.'),
    {
      regex: '^(\\.\\./)+engine/(?!btf/(btf-types|value-decoder)$|live-data/(?!map-snapshot$|map-mirror$)[\\w-]+$)',
      message: 'webviews import only the pure models of engine/ (btf-types, value-decoder, live-data models); the rest talks to Node or the agent.',
    },
    { regex: '^\\.\\./(?!shared/|\\.\\./)', message: 'A view imports only its own files and webviews/shared, never another view.' },
  ]),
  layer(['test/editor/**/*.ts'], [], []),
);
