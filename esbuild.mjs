// Builds every bundle of the product in one pass: client, server, agent and CLI for Node (cjs),
// each webviews/<view>/main.ts for the browser, plus the runtime files they load (koffi, wasm). `--watch` rebuilds.
import * as esbuild from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';
import { copyRuntimeAssets } from './scripts/runtime-assets.mjs';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', minify: !watch };

const nodeBundles = [
  // ssh2's optional native addons (*.node) stay out of the bundles; ssh2 falls back to pure JS without them.
  { entryPoints: { client: 'client/src/extension.ts' }, external: ['vscode', '*.node'] },
  { entryPoints: { server: 'server/src/server.ts' } },
  { entryPoints: { agent: 'agent/src/agent.ts' }, external: ['koffi'] },
  { entryPoints: { cli: 'cli/src/cli.ts' }, external: ['koffi', '*.node'], banner: { js: '#!/usr/bin/env node' } },
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
