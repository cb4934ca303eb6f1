// Builds every bundle of the product in one pass: client, server, agent and CLI for Node (cjs),
// each webviews/<view>/main.ts for the browser, plus the runtime files they load (koffi, wasm). `--watch` rebuilds.
import * as esbuild from 'esbuild';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { copyRuntimeAssets } from './scripts/runtime-assets.mjs';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', minify: !watch };

/**
 * The CLI is a small dispatcher plus one bundle per lazily loaded module of cli/src (each command, the SSH
 * connector): `import('./X.js')` in cli/src becomes `require('./cli-X.js')`, so a command's process parses only
 * what that command needs (the whole CLI in one file cost `maps dump` ~15 ms of start-up).
 */
const cliLazyModules = [...new Set(readdirSync('cli/src').filter((f) => f.endsWith('.ts'))
  .flatMap((f) => [...readFileSync(`cli/src/${f}`, 'utf8').matchAll(/\bimport\('\.\/([\w-]+)\.js'\)/g)].map((m) => m[1])))];
const cliLazyBundles = {
  name: 'cli-lazy-bundles',
  setup(build) {
    build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      const name = args.path.slice(2, -3);
      if (args.kind !== 'dynamic-import' || !args.importer.includes('cli/src/') || !cliLazyModules.includes(name)) return undefined;
      return { path: name, namespace: 'cli-lazy' };
    });
    // A stub that require()s the other bundle: an external import() would go through Node's ESM loader (~15 ms).
    build.onLoad({ filter: /.*/, namespace: 'cli-lazy' }, (args) => ({ contents: `module.exports = require('./cli-${args.path}.js');`, loader: 'js' }));
    build.onResolve({ filter: /^\.\/cli-[\w-]+\.js$/, namespace: 'cli-lazy' }, (args) => ({ path: args.path, external: true }));
  },
};
/** `koffi` in the CLI bundles is cli/src/koffi-prebuilt.ts, which loads koffi's native module without its loader. */
const cliKoffi = {
  name: 'cli-koffi-prebuilt',
  setup(build) {
    build.onResolve({ filter: /^koffi$/ }, (args) => (args.importer.endsWith('koffi-prebuilt.ts') ? undefined : { path: `${process.cwd()}/cli/src/koffi-prebuilt.ts` }));
  },
};
const cliEntries = Object.fromEntries(cliLazyModules.map((m) => [`cli-${m}`, `cli/src/${m}.ts`]));

const nodeBundles = [
  // ssh2's optional native addons (*.node) stay out of the bundles; ssh2 falls back to pure JS without them.
  { entryPoints: { client: 'client/src/extension.ts' }, external: ['vscode', '*.node'] },
  { entryPoints: { server: 'server/src/server.ts' } },
  { entryPoints: { agent: 'agent/src/agent.ts' }, external: ['koffi'] },
  { entryPoints: { cli: 'cli/src/cli.ts' }, plugins: [cliLazyBundles], banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: cliEntries, external: ['koffi', '*.node'], plugins: [cliLazyBundles, cliKoffi] },
].map((b) => ({ ...common, ...b, platform: 'node', format: 'cjs', target: 'node18', outdir: 'dist' }));

const views = readdirSync('webviews', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`webviews/${d.name}/main.ts`))
  .map((d) => d.name);
const webviewBundle = {
  ...common,
  entryPoints: Object.fromEntries(views.map((v) => [v, `webviews/${v}/main.ts`])),
  platform: 'browser',
  format: 'iife',
  target: 'chrome114',
  outdir: 'dist/webviews',
  loader: { '.css': 'text' },
};

const configs = [...nodeBundles, webviewBundle];
copyRuntimeAssets('dist');
if (watch) {
  for (const c of configs) await (await esbuild.context(c)).watch();
} else {
  await Promise.all(configs.map((c) => esbuild.build(c)));
}
