// Extension-test entry (`extensionTestsPath`, bundled to CommonJS): runs the API checks in whichever VS Code
// loads it and throws on any failure. Talks to the VS Code API; prints one line per check and a summary.
//
// code-server: test/editor/probe-workflow.test.ts loads it through the workbench's `payload` URL parameter.
// Desktop VS Code (not on this machine: @vscode/test-electron downloads it): bundle this file
// (esbuild --bundle --platform=node --format=cjs --external:vscode --outfile=out/index.js) and run
//   runTests({ extensionDevelopmentPath: <repo>, extensionTestsPath: 'out/index.js',
//              launchArgs: [<a copy of test/fixtures/editor-workspace>, '--disable-workspace-trust'] })
import * as vscode from 'vscode';
import { PROBE_FILE, resultLine, summaryLine } from './check-contract';
import { runApiChecks } from './checks';

export async function run(): Promise<void> {
  const [probe] = await vscode.workspace.findFiles(`**/${PROBE_FILE}`, undefined, 1);
  if (!probe) throw new Error(`${PROBE_FILE} is not in the opened workspace; open test/fixtures/editor-workspace`);
  const results = await runApiChecks(probe);
  for (const result of results) console.log(resultLine(result));
  console.log(summaryLine(results));
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`${failed.length} editor API check(s) failed: ${failed.map((r) => r.name).join('; ')}`);
}
