// Benchmarks eBPF Studio's activation in a real VS Code (code-server + headless Chromium): its own clock and VS Code's
// figure from Running Extensions, beside VS Code's built-in Markdown extension activated in the same window; budget 200 ms.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { EditorSession } from '../../test/editor/harness/editor-session';
import { studioLog } from '../../test/editor/harness/studio-log';
import { waitFor } from '../../test/editor/harness/wait-for';
import { PROBE_FILE } from '../../test/editor/extension-api/check-contract';
import { PROJECT_ROOT } from '../../test/packaging/package-vsix';

const BUDGET_MS = 200;

async function main(): Promise<void> {
  const session = new EditorSession();
  try {
    const { server, workbench } = await session.open({
      outputDir: join(PROJECT_ROOT, 'test-output', 'bench-activation'),
      tempPrefix: 'ebpf-studio-bench-activation-',
      workspaceSource: join(PROJECT_ROOT, 'test', 'fixtures', 'editor-workspace'),
    });
    await workbench.openFile(PROBE_FILE);
    const ownMs = await waitFor('the activation line in the eBPF Studio output channel', 60_000, () => {
      const match = /activated in ([\d.]+) ms/.exec(studioLog(server.userDataDir));
      return match ? Number(match[1]) : undefined;
    });
    const ours = await workbench.hostMeasuredActivationMs('eBPF Studio');
    writeFileSync(join(server.workspaceDir, 'NOTES.md'), '# Notes\n\nA Markdown file, so VS Code activates its Markdown extension.\n');
    await workbench.openFile('NOTES.md');
    const markdown = await workbench.hostMeasuredActivationMs('Markdown Language Features');
    const load = loadavg()[0].toFixed(1);
    console.log(`eBPF Studio activation: ${ownMs} ms by its own clock, ${ours} ms by VS Code's (budget ${BUDGET_MS} ms); load average ${load}`);
    console.log(`VS Code's built-in Markdown Language Features in the same window: ${markdown} ms; ratio ${(ours / markdown).toFixed(2)}×`);
    if (ours >= BUDGET_MS) {
      console.log(`over budget: ${ours} ms ≥ ${BUDGET_MS} ms`);
      process.exitCode = 1;
    }
  } finally {
    await session.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
