// Copies the non-JavaScript files the bundles load at run time into dist/: koffi (the agent's FFI,
// only its loader and the linux x64/arm64 prebuilt binaries) and the tree-sitter wasm files (server).
import { cpSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Architectures whose koffi binary ships with the extension (the agent runs on Linux targets). */
export const KOFFI_ARCHES = ['linux_x64', 'linux_arm64'];

/** Files of the koffi package that `require('koffi')` needs, relative to the package root. */
export const KOFFI_FILES = ['package.json', 'index.js', 'LICENSE.txt', ...KOFFI_ARCHES.map((a) => `build/koffi/${a}/koffi.node`)];

/** The wasm files the language server loads; both go next to dist/server.js. */
export const WASM_FILES = [
  { from: 'web-tree-sitter/tree-sitter.wasm', to: 'tree-sitter.wasm' },
  { from: 'tree-sitter-c/tree-sitter-c.wasm', to: 'tree-sitter-c.wasm' },
];


/**
 * Copies koffi into <outDir>/node_modules/koffi, so `require('koffi')` from dist/agent.js and
 * dist/cli.js resolves there once the project's own node_modules is not shipped, and the wasm
 * files into <outDir>.
 */
export function copyRuntimeAssets(outDir) {
  const koffiRoot = dirname(require.resolve('koffi'));
  const koffiOut = join(outDir, 'node_modules', 'koffi');
  rmSync(koffiOut, { recursive: true, force: true });
  for (const file of KOFFI_FILES) {
    const source = join(koffiRoot, file);
    if (!existsSync(source)) throw new Error(`koffi runtime file missing: ${source}`);
    mkdirSync(dirname(join(koffiOut, file)), { recursive: true });
    cpSync(source, join(koffiOut, file));
  }
  for (const { from, to } of WASM_FILES) cpSync(require.resolve(from), join(outDir, to));
  // The codicons stylesheet and font the live-view webviews load: dist/webviews is the only folder they may read.
  const codicons = join(dirname(require.resolve('@vscode/codicons/package.json')), 'dist');
  mkdirSync(join(outDir, 'webviews'), { recursive: true });
  for (const file of ['codicon.css', 'codicon.ttf']) cpSync(join(codicons, file), join(outDir, 'webviews', file));
}
