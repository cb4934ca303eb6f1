// Packages the built extension (dist/ must exist: `npm run build`) into a .vsix with @vscode/vsce,
// with the vsce flags of `npm run package` read from package.json; used by the packaging and editor tests.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const PROJECT_ROOT = join(__dirname, '..', '..');

/** The flags `npm run package` passes to `vsce package`, without its output path. */
export function vscePackageFlags(): string[] {
  const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const script = manifest.scripts?.package ?? '';
  const command = /\bvsce package\b([^&|;]*)/.exec(script);
  if (!command) throw new Error(`package.json's "package" script does not run \`vsce package\`: ${script}`);
  const words = command[1].trim().split(/\s+/).filter(Boolean);
  return words.filter((word, i) => word !== '-o' && word !== '--out' && words[i - 1] !== '-o' && words[i - 1] !== '--out');
}

export async function packageVsix(outPath: string): Promise<void> {
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'client.js'))) {
    throw new Error('dist/client.js is missing: run `npm run build` before packaging');
  }
  const vsce = join(PROJECT_ROOT, 'node_modules', '.bin', 'vsce');
  await promisify(execFile)(vsce, ['package', ...vscePackageFlags(), '-o', outPath], { cwd: PROJECT_ROOT, timeout: 120_000 });
}
