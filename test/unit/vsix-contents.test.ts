// Packages the extension with vsce and inspects the .vsix: under 10 MB, every runtime file present,
// nothing else (no sources, tests, maps or stray node_modules), and the packed agent runs with the packed koffi.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { packageVsix, PROJECT_ROOT } from '../packaging/package-vsix';
import { extractZipEntry, readZipEntries, type ZipEntry } from '../packaging/zip-entries';

const MAX_VSIX_BYTES = 10 * 1024 * 1024;
const KOFFI_DIR = 'extension/dist/node_modules/koffi';

const REQUIRED_ENTRIES = [
  'extension/package.json',
  'extension/dist/client.js',
  'extension/dist/server.js',
  'extension/dist/agent.js',
  'extension/dist/cli.js',
  'extension/dist/cli-maps-command.js',
  'extension/dist/tree-sitter.wasm',
  'extension/dist/tree-sitter-c.wasm',
  `${KOFFI_DIR}/package.json`,
  `${KOFFI_DIR}/index.js`,
  `${KOFFI_DIR}/build/koffi/linux_x64/koffi.node`,
  `${KOFFI_DIR}/build/koffi/linux_arm64/koffi.node`,
];

/** Everything a .vsix may hold; anything else is a packaging leak. */
const ALLOWED_ENTRY = [
  /^\[Content_Types\]\.xml$/,
  /^extension\.vsixmanifest$/,
  /^extension\/(package\.json|readme\.md|README\.md|changelog\.md|CHANGELOG\.md|LICENSE(\.txt)?|language-configuration\.json)$/,
  /^extension\/dist\/(client|server|agent|cli|cli-[\w-]+)\.js$/,
  /^extension\/dist\/(tree-sitter|tree-sitter-c)\.wasm$/,
  /^extension\/dist\/webviews\/[\w-]+\.(js|css|ttf)$/,
  /^extension\/dist\/node_modules\/koffi\/(package\.json|index\.js|LICENSE\.txt|build\/koffi\/linux_(x64|arm64)\/koffi\.node)$/,
  /^extension\/data\/.+/,
  /^extension\/(syntaxes|snippets|media|docs\/rules|docs\/walkthrough)\/.+/,
  /^extension\/docs\/[\w-]+\.md$/,
  /^extension\/docs\/screenshots\/[\w-]+\.png$/,
  /^extension\/bpf-templates\/[\w-]+\/([\w-]+\.bpf\.[ch]|template\.json)$/,
];
const NEVER_SHIPPED = [/\.ts$/, /\.map$/, /(^|\/)test\//, /(^|\/)src\//, /\.test\./, /(^|\/)\.[^/]+$/];

/** Files under a project folder that the allowlist says must ship (the folder may not exist yet). */
function projectFiles(folder: string, keep: (path: string) => boolean = () => true): string[] {
  const root = join(PROJECT_ROOT, folder);
  if (!existsSync(root)) return [];
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
  return walk(root)
    .map((file) => relative(PROJECT_ROOT, file).split('\\').join('/'))
    .filter(keep);
}

let workDir = '';
let vsixPath = '';
let entries: ZipEntry[] = [];
const buildMissing = !existsSync(join(PROJECT_ROOT, 'dist', 'client.js'));
const skip = buildMissing && process.env.CI !== 'true' ? 'prerequisite missing: dist/ is not built (run `npm run build`)' : false;

before(async () => {
  if (skip) return;
  workDir = mkdtempSync(join(tmpdir(), 'ebpf-studio-vsix-'));
  vsixPath = join(workDir, 'ebpf-studio.vsix');
  await packageVsix(vsixPath);
  entries = readZipEntries(vsixPath);
});

after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('the .vsix is under 10 MB', { skip }, () => {
  const size = statSync(vsixPath).size;
  assert.ok(size < MAX_VSIX_BYTES, `${vsixPath} is ${(size / 1048576).toFixed(2)} MB`);
});

test('the .vsix holds the bundles (webviews too), the wasm files and koffi for linux x64 and arm64', { skip }, () => {
  const names = new Set(entries.map((e) => e.name));
  const webviewBundles = readdirSync(join(PROJECT_ROOT, 'webviews'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(PROJECT_ROOT, 'webviews', d.name, 'main.ts')))
    .map((d) => `extension/dist/webviews/${d.name}.js`);
  const missing = [...REQUIRED_ENTRIES, ...webviewBundles].filter((name) => !names.has(name));
  assert.deepEqual(missing, [], `missing from the .vsix: ${missing.join(', ')}`);
  for (const name of REQUIRED_ENTRIES) {
    const entry = entries.find((e) => e.name === name);
    assert.ok(entry && entry.uncompressedSize > 0, `${name} is empty`);
  }
});

test('the .vsix holds every data, grammar, snippet, template, doc, screenshot and media file of the project', { skip }, () => {
  const names = new Set(entries.map((e) => e.name));
  const shipped = [
    ...projectFiles('data'),
    ...projectFiles('syntaxes'),
    ...projectFiles('snippets'),
    ...projectFiles('media'),
    ...projectFiles('docs/rules'),
    ...projectFiles('docs/screenshots', (p) => p.endsWith('.png')),
    ...projectFiles('docs', (p) => /^docs\/[\w-]+\.md$/.test(p)),
    ...projectFiles('bpf-templates', (p) => /^bpf-templates\/[\w-]+\/([\w-]+\.bpf\.[ch]|template\.json)$/.test(p)),
  ];
  const missing = shipped.filter((file) => !names.has(`extension/${file}`));
  assert.deepEqual(missing, [], `project files left out of the .vsix: ${missing.join(', ')}`);
});

test('the .vsix holds nothing else: no sources, tests, source maps or other node_modules', { skip }, () => {
  const unexpected = entries
    .map((e) => e.name)
    .filter((name) => !ALLOWED_ENTRY.some((re) => re.test(name)) || NEVER_SHIPPED.some((re) => re.test(name) && !name.startsWith('extension/data/')));
  assert.deepEqual(unexpected, [], `unexpected entries in the .vsix: ${unexpected.join(', ')}`);
});

test('every relative link and image in the README resolves inside the .vsix', { skip }, () => {
  const readme = join(PROJECT_ROOT, 'README.md');
  const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
  const targets = [...text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img[^>]+src=["']([^"']+)["']/g)]
    .map((m) => (m[1] ?? m[2]).split('#')[0])
    .filter((link) => link && !/^[a-z][\w+.-]*:/i.test(link));
  const names = new Set(entries.map((e) => e.name));
  // A link resolves to a packed file, or to a packed folder (e.g. docs/rules) holding files.
  const resolves = (link: string): boolean => {
    const path = `extension/${link.replace(/^\.\//, '').replace(/\/$/, '')}`;
    return names.has(path) || [...names].some((name) => name.startsWith(`${path}/`));
  };
  const broken = [...new Set(targets)].filter((link) => !resolves(link));
  assert.deepEqual(broken, [], `README links missing from the .vsix: ${broken.join(', ')}`);
});

test('the packed agent answers hello through the packed koffi and libbpf, away from the project', { skip }, () => {
  const unpacked = join(workDir, 'unpacked');
  for (const entry of entries.filter((e) => e.name.startsWith(`${KOFFI_DIR}/`) || e.name === 'extension/dist/agent.js')) {
    const target = join(unpacked, entry.name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, extractZipEntry(vsixPath, entry));
  }
  const reply = execFileSync(process.execPath, [join(unpacked, 'extension', 'dist', 'agent.js')], {
    cwd: workDir,
    input: JSON.stringify({ id: 1, method: 'hello', params: {} }) + '\n',
    encoding: 'utf8',
    timeout: 30_000,
  });
  const hello = JSON.parse(reply.split('\n')[0]) as { id: number; result?: { libbpfVersion?: string; arch?: string }; error?: unknown };
  assert.equal(hello.error, undefined, reply);
  assert.match(hello.result?.libbpfVersion ?? '', /^v\d+\.\d+/, reply);
});
