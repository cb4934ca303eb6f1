// Entry point for @vscode/test-electron (`extensionTestsPath`, bundled to CommonJS): runs the API
// checks in a desktop VS Code opened on test/fixtures/editor-workspace and fails on any failed check.
//
// Where a desktop VS Code exists (not on this CI machine: @vscode/test-electron downloads it), bundle
// this file (esbuild --bundle --platform=node --format=cjs --external:vscode --outfile=out/index.js) and run
//   runTests({ extensionDevelopmentPath: <repo>, extensionTestsPath: 'out/index.js',
//              launchArgs: [<a copy of test/fixtures/editor-workspace>, '--disable-workspace-trust'] })
// The same checks run in code-server through helper-extension.ts (test/editor/probe-workflow.test.ts).
import * as vscode from 'vscode';
import { PROBE_FILE } from './check-contract';
import { runApiChecks } from './checks';

export async function run(): Promise<void> {
  const [probe] = await vscode.workspace.findFiles(`**/${PROBE_FILE}`, undefined, 1);
  if (!probe) throw new Error(`${PROBE_FILE} is not in the opened workspace; open test/fixtures/editor-workspace`);
  const results = await runApiChecks(probe);
  for (const r of results) console.log(`${r.ok ? 'ok' : 'FAILED'} - ${r.name}: ${r.detail}`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`${failed.length} editor API check(s) failed: ${failed.map((r) => r.name).join('; ')}`);
}
