// Builds the agent bundle from the current sources for a test run (into .cache/test-agent/<pid>/, where
// require('koffi') resolves from the project), so tests never run a stale dist/agent.js. Talks to esbuild.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');

export interface TestAgentBundle {
  path: string;
  remove(): void;
}

export async function buildTestAgent(): Promise<TestAgentBundle> {
  const dir = join(PROJECT_ROOT, '.cache', 'test-agent', String(process.pid));
  const path = join(dir, 'agent.js');
  await build({ entryPoints: [join(PROJECT_ROOT, 'agent', 'src', 'agent.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node18', external: ['koffi'], outfile: path, logLevel: 'warning' });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
