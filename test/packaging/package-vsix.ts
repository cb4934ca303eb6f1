// Packages the built extension (dist/ must exist: `npm run build`) into a .vsix with @vscode/vsce,
// the same command `npm run package` runs; used by the packaging test and the editor harness.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const PROJECT_ROOT = join(__dirname, '..', '..');

export async function packageVsix(outPath: string): Promise<void> {
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'client.js'))) {
    throw new Error('dist/client.js is missing: run `npm run build` before packaging');
  }
  const vsce = join(PROJECT_ROOT, 'node_modules', '.bin', 'vsce');
  await promisify(execFile)(vsce, ['package', '--no-dependencies', '--allow-missing-repository', '-o', outPath], {
    cwd: PROJECT_ROOT,
    timeout: 120_000,
  });
}
