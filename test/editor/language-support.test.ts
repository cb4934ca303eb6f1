// In a real VS Code (code-server + Chromium): the bpf-c language and its status item round-trip through the
// language server, the server comes back after a crash, snippets expand, the walkthrough and target output open.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { type CodeServer, processesInGroup } from './harness/code-server';
import { EditorSession } from './harness/editor-session';
import { studioLog } from './harness/studio-log';
import { waitFor } from './harness/wait-for';
import type { Workbench } from './harness/workbench';
import { PROJECT_ROOT } from '../packaging/package-vsix';

const OUTPUT_DIR = join(PROJECT_ROOT, 'test-output', 'editor-language-support');
const PROBE = 'getppid-latency.bpf.c';
const WORKSPACE_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'editor-workspace');
const runningMajorMinor = /^(\d+\.\d+)/.exec(release())?.[1] ?? release();

const missing = [
  ...(existsSync(join(PROJECT_ROOT, 'dist', 'client.js')) && existsSync(join(PROJECT_ROOT, 'dist', 'server.js')) ? [] : ['dist/ is not built (run `npm run build`)']),
  ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium']),
];
const skip = missing.length > 0 && process.env.CI !== 'true' ? `prerequisite missing: ${missing.join(', ')}` : false;

const session = new EditorSession();
let server: CodeServer;
let workbench: Workbench;

/** PIDs of the language server processes code-server started for this session. */
function languageServerPids(): number[] {
  return processesInGroup(server.processGroup).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join('dist', 'server.js'));
    } catch {
      return false;
    }
  });
}

async function kernelStatus(): Promise<string | undefined> {
  return (await workbench.statusBarItems()).map((s) => s.trim()).find((s) => /^Kernel /.test(s));
}

/** The lines the active editor shows (non-breaking spaces as spaces). */
async function visibleEditorLines(): Promise<string> {
  const lines = await workbench.page.locator('.editor-instance .monaco-editor .view-lines .view-line').allInnerTexts();
  return lines.join('\n').replace(/\u00a0/g, ' ');
}

function writeWorkspaceSettings(settings: Record<string, unknown>): void {
  mkdirSync(join(server.workspaceDir, '.vscode'), { recursive: true });
  writeFileSync(join(server.workspaceDir, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
}

const step = (name: string, body: () => Promise<void>): void => session.step(name, skip, body);

describe('bpf-c language support in a real VS Code', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    if (skip) return;
    ({ server, workbench } = await session.open({ outputDir: OUTPUT_DIR, tempPrefix: 'ebpf-studio-language-', workspaceSource: WORKSPACE_FIXTURE }));
  });

  after(() => session.close());

  step('a *.bpf.c file opens as eBPF C and the status bar shows the running kernel', async () => {
    await workbench.openFile(PROBE);
    await waitFor('the eBPF C language mode', 30_000, async () => ((await workbench.statusBarItems()).some((s) => s.trim() === 'eBPF C') ? true : undefined));
    const status = await waitFor('the target kernel item', 30_000, kernelStatus);
    assert.match(status, new RegExp(`^Kernel ${runningMajorMinor.replace('.', '\\.')}`));
    await waitFor('the activation line in the eBPF Studio log', 30_000, () => (/eBPF Studio \S+ activated in [\d.]+ ms \(\d+\/\d+ features\)/.test(studioLog(server.userDataDir)) ? true : undefined));
  });

  step('the status item shows what the language server uses: a bad setting is flagged, a good one shown', async () => {
    writeWorkspaceSettings({ 'ebpfStudio.targetKernel': 'banana' });
    // Only the server can know the setting was refused; the item then shows the running kernel with a warning.
    await waitFor('the server to refuse the setting', 30_000, async () => {
      const items = await workbench.page.locator('.part.statusbar .statusbar-item', { hasText: /^\s*Kernel / }).all();
      for (const item of items) if ((await item.locator('.codicon-warning').count()) > 0) return true;
      return undefined;
    });
    writeWorkspaceSettings({ 'ebpfStudio.targetKernel': '5.10' });
    await waitFor('Kernel 5.10', 30_000, async () => ((await kernelStatus()) === 'Kernel 5.10' ? true : undefined));
  });

  step('Select Target Kernel offers this machine, the LTS kernels and a custom version', async () => {
    await workbench.runCommand('eBPF: Select Target Kernel');
    const items = (await workbench.quickPickItems()).join('\n');
    for (const version of ['4.19', '5.4', '5.10', '5.15', '6.1', '6.6', '6.12']) assert.ok(items.includes(version), `${version} in ${items}`);
    assert.match(items, /This machine/);
    assert.match(items, /Custom/);
    await workbench.pickQuickPickItem(/^\s*6\.1\s*$/);
    await waitFor('Kernel 6.1', 30_000, async () => ((await kernelStatus()) === 'Kernel 6.1' ? true : undefined));
    const settings = JSON.parse(readFileSync(join(server.workspaceDir, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(settings['ebpfStudio.targetKernel'], '6.1');
  });

  step('the language server is restarted after it crashes', async () => {
    const before = await waitFor('a running language server', 30_000, () => (languageServerPids().length > 0 ? languageServerPids() : undefined));
    for (const pid of before) process.kill(pid, 'SIGKILL');
    const after = await waitFor('a new language server process', 30_000, () => {
      const pids = languageServerPids().filter((pid) => !before.includes(pid));
      return pids.length > 0 ? pids : undefined;
    });
    assert.ok(after.length > 0);
    await waitFor('the restart in the log', 10_000, () => (/stopped unexpectedly; restarting/.test(studioLog(server.userDataDir)) ? true : undefined));
    // The new server answers: switching the kernel again is reflected from its reply.
    writeWorkspaceSettings({ 'ebpfStudio.targetKernel': 'not-a-version' });
    await waitFor('the restarted server to flag the bad setting', 30_000, async () => {
      const items = await workbench.page.locator('.part.statusbar .statusbar-item', { hasText: /^\s*Kernel / }).all();
      for (const item of items) if ((await item.locator('.codicon-warning').count()) > 0) return true;
      return undefined;
    });
    writeWorkspaceSettings({});
  });

  step('a snippet expands into a ring buffer map definition', async () => {
    const editor = workbench.page.locator('.editor-instance .monaco-editor textarea').first();
    await editor.focus();
    await workbench.page.keyboard.press('Control+End');
    await workbench.page.keyboard.press('Enter');
    await workbench.page.keyboard.type('map-ringbuf');
    await workbench.page.keyboard.press('Control+Space');
    const suggestion = workbench.page.locator('.suggest-widget .monaco-list-row', { hasText: 'map-ringbuf' }).first();
    await suggestion.waitFor({ timeout: 15_000 });
    await suggestion.click();
    await waitFor('the expanded snippet', 15_000, async () => ((await visibleEditorLines()).includes('BPF_MAP_TYPE_RINGBUF') ? true : undefined));
    assert.match(await visibleEditorLines(), /\}\s*events SEC\("\.maps"\);/);
    await workbench.runCommand('File: Revert File');
  });

  step('the walkthrough leads from template to histogram', async () => {
    await workbench.runCommand('Welcome: Open Walkthrough...');
    await workbench.pickQuickPickItem('Get started with eBPF Studio');
    const page = workbench.page.locator('.gettingStartedContainer');
    for (const title of ['Create a probe from a template', 'Check it with the kernel verifier', 'Attach it to a target', 'Watch the histogram']) {
      await page.locator('.getting-started-step', { hasText: title }).first().waitFor({ timeout: 30_000 });
    }
  });

  step('Show Target Output opens the local target\'s channel without starting an agent', async () => {
    await workbench.runCommand('eBPF: Show Target Output');
    await workbench.pickQuickPickItem(/^\s*local/);
    await waitFor('the output panel to show eBPF: local', 15_000, async () => {
      const shown = await workbench.page.locator('.part.panel select').evaluateAll((selects) => selects.map((s) => (s as unknown as { value: string }).value));
      return shown.includes('eBPF: local') ? true : undefined;
    });
    assert.ok(!processesInGroup(server.processGroup).some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join('dist', 'agent.js'));
      } catch {
        return false;
      }
    }), 'no agent process may run before one is needed');
  });
});
