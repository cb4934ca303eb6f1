// Entry point for @vscode/test-electron (`extensionTestsPath`, bundled to CommonJS): runs the API
// checks in a desktop VS Code opened on test/fixtures/editor-workspace and fails on any failed check.
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
