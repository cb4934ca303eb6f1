// A test-only extension for code-server: its command runs the shared API checks and writes the
// results as JSON to $EBPF_STUDIO_E2E_RESULTS, where the Playwright-driven test reads them.
import * as vscode from 'vscode';
import { writeFileSync } from 'node:fs';
import { PROBE_FILE, RESULTS_ENV, RUN_CHECKS_COMMAND, type CheckOutcome } from './check-contract';
import { runApiChecks } from './checks';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(RUN_CHECKS_COMMAND, async () => {
      const resultsPath = process.env[RESULTS_ENV];
      if (!resultsPath) throw new Error(`${RESULTS_ENV} is not set`);
      try {
        const [probe] = await vscode.workspace.findFiles(`**/${PROBE_FILE}`, undefined, 1);
        if (!probe) throw new Error(`${PROBE_FILE} is not in the workspace`);
        const outcome: CheckOutcome = { results: await runApiChecks(probe) };
        writeFileSync(resultsPath, JSON.stringify(outcome));
      } catch (error) {
        const outcome: CheckOutcome = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
        writeFileSync(resultsPath, JSON.stringify(outcome));
      }
    }),
  );
}
