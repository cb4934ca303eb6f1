// Bundles the editor's extension-test entry (../extension-api/index.ts) to CommonJS with esbuild, the
// form both code-server and @vscode/test-electron load as `extensionTestsPath`.
import { join } from 'node:path';
import { build } from 'esbuild';

const ENTRY = join(__dirname, '..', 'extension-api', 'index.ts');

/** Writes `<outDir>/extension-tests/index.js` and returns its path. */
export async function bundleExtensionTests(outDir: string): Promise<string> {
  const outfile = join(outDir, 'extension-tests', 'index.js');
  await build({ entryPoints: [ENTRY], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node18', external: ['vscode'], logLevel: 'warning' });
  return outfile;
}
