// Builds the test-only helper extension (../extension-api/helper-extension.ts) into a .vsix with
// esbuild and @vscode/vsce, so code-server can install it next to eBPF Studio.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { RUN_CHECKS_COMMAND, RUN_CHECKS_TITLE } from '../extension-api/check-contract';

const PROJECT_ROOT = join(__dirname, '..', '..', '..');

/** Writes the helper extension into `workDir` and returns the path of its .vsix. */
export async function packageHelperExtension(workDir: string): Promise<string> {
  const extensionDir = join(workDir, 'helper-extension');
  mkdirSync(extensionDir, { recursive: true });
  await build({
    entryPoints: [join(PROJECT_ROOT, 'test', 'editor', 'extension-api', 'helper-extension.ts')],
    outfile: join(extensionDir, 'extension.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['vscode'],
    logLevel: 'warning',
  });
  const manifest = {
    name: 'ebpf-studio-e2e',
    displayName: 'eBPF Studio end-to-end checks',
    description: 'Test-only: runs the eBPF Studio editor API checks.',
    publisher: 'ebpf-studio-tests',
    version: '0.0.1',
    license: 'MIT',
    engines: { vscode: '^1.91.0' },
    main: './extension.js',
    activationEvents: [`onCommand:${RUN_CHECKS_COMMAND}`],
    contributes: { commands: [{ command: RUN_CHECKS_COMMAND, title: RUN_CHECKS_TITLE }] },
  };
  writeFileSync(join(extensionDir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(extensionDir, 'README.md'), '# eBPF Studio end-to-end checks\n\nTest-only helper extension.\n');
  copyFileSync(join(PROJECT_ROOT, 'LICENSE'), join(extensionDir, 'LICENSE'));
  const vsixPath = join(workDir, 'ebpf-studio-e2e.vsix');
  await promisify(execFile)(join(PROJECT_ROOT, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '-o', vsixPath], {
    cwd: extensionDir,
    timeout: 120_000,
  });
  return vsixPath;
}
