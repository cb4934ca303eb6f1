// In a real VS Code (code-server + Chromium) on this machine's kernel: the shipped file-open-tracer template's events
// view decodes its records into named columns with the file name as text; an attach where no program attaches is
// unloaded at once (bpftool and the Targets view agree, the agent still running); a rule link opens the rendered page.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeServer } from './harness/code-server';
import { EditorSession } from './harness/editor-session';
import { loadedPrograms, processesMentioning, programsHeldByTree, programsLeftBy } from './harness/system-state';
import { localTargetLog, studioLog } from './harness/studio-log';
import { startOpening } from './harness/file-opener';
import { waitFor } from './harness/wait-for';
import type { Workbench } from './harness/workbench';
import { PROJECT_ROOT } from '../packaging/package-vsix';

const OUTPUT_DIR = join(PROJECT_ROOT, 'test-output', 'editor-events-outcomes');
const FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'editor-outcomes-workspace');
/** The probe whose rule link is followed: the main editor workspace's, used in place. */
const GETPPID_PROBE = join(PROJECT_ROOT, 'test', 'fixtures', 'editor-workspace', 'getppid-latency.bpf.c');
const TEMPLATE = join(PROJECT_ROOT, 'bpf-templates', 'file-open-tracer');
const TRACER = 'file-open-tracer.bpf.c';
const UNATTACHABLE = 'unattachable.bpf.c';
const UNATTACHABLE_PROGRAMS = ['unattached_xdp', 'unattached_tp'];

const missing = [
  ...(existsSync(join(PROJECT_ROOT, 'dist', 'client.js')) ? [] : ['dist/ is not built (run `npm run build`)']),
  ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium']),
  ...(process.getuid?.() === 0 ? [] : ['root (the local agent loads BPF programs)']),
  ...(existsSync('/sys/kernel/btf/vmlinux') ? [] : ['/sys/kernel/btf/vmlinux (vmlinux.h for the probes)']),
];
const skip = missing.length > 0 && process.env.CI !== 'true' ? `prerequisite missing: ${missing.join(', ')}` : false;

const session = new EditorSession();
let server: CodeServer;
let workbench: Workbench;
let workspaceSource = '';
let workload: ChildProcess | undefined;
let programsBefore = new Set<number>();
/** The file the workload opens again and again: the events view must show this name as text. */
const OPENED = join(tmpdir(), `ebpf-studio-events-${process.pid}.txt`);

function step(name: string, body: () => Promise<void>): void {
  test(name, { skip }, async () => {
    try {
      await body();
    } catch (error) {
      await workbench?.screenshot(`${name.slice(0, 40).replace(/\W+/g, '-')}-FAILED`).catch(() => undefined);
      throw error;
    }
  });
}

/** Programs of `names` this session's code-server (its agent) holds or left, loaded since it started. */
const newPrograms = (names: string[]) => programsLeftBy(server.processGroup, programsBefore, names);


const localTargetOutput = () => localTargetLog(server.userDataDir);

/** The program ids the output says a session attached for `file` (bpftool truncates the tracer's names alike). */
function attachedIds(): number[] {
  return [...localTargetOutput().matchAll(/attached tracepoint__syscalls__sys_(?:enter|exit)_openat \(.*?\), program id (\d+)/g)].map((m) => Number(m[1]));
}

function installedAgentPids(): number[] {
  const extension = readdirSync(server.extensionsDir).find((n) => n.startsWith('ebpf-studio.ebpf-studio-'));
  return extension ? processesMentioning(join(server.extensionsDir, extension, 'dist', 'agent.js')).map((p) => p.pid) : [];
}

/** Opens a workspace file from the Explorer with its first SEC line in view (where the attach lenses are). */
async function openProbe(relativePath: string): Promise<void> {
  const name = relativePath.split('/').at(-1) as string;
  await workbench.openFile(name);
  const lines = readFileSync(join(server.workspaceDir, relativePath), 'utf8').split('\n');
  await workbench.goToLine(lines.findIndex((l) => l.startsWith('SEC("') && !l.includes('license')) + 1);
}

describe('events, a failed attach and rule pages in a real VS Code', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    if (skip) return;
    workspaceSource = mkdtempSync(join(tmpdir(), 'ebpf-studio-outcomes-ws-'));
    cpSync(FIXTURE, workspaceSource, { recursive: true });
    cpSync(GETPPID_PROBE, join(workspaceSource, 'getppid-latency.bpf.c'));
    // the shipped template itself, with its template.json (eventStruct "event"), as New Probe from Template writes it
    cpSync(TEMPLATE, join(workspaceSource, 'file-open-tracer'), { recursive: true });
    ({ server, workbench } = await session.open({
      outputDir: OUTPUT_DIR,
      tempPrefix: 'ebpf-studio-outcomes-',
      workspaceSource,
      beforeStart: () => {
        programsBefore = new Set(loadedPrograms().map((p) => p.id));
      },
    }));
  });

  after(async () => {
    if (workload?.pid && workload.exitCode === null) workload.kill('SIGKILL');
    await session.close();
    if (workspaceSource) rmSync(workspaceSource, { recursive: true, force: true });
    rmSync(OPENED, { force: true });
  });

  step('file-open-tracer: the events view shows named columns and the opened file\'s name as text', async () => {
    await openProbe(`file-open-tracer/${TRACER}`);
    await waitFor('eBPF Studio to activate', 60_000, () => (/activated in [\d.]+ ms/.test(studioLog(server.userDataDir)) ? true : undefined));
    const lens = workbench.codeLens(/▶ Attach probe/);
    await lens.first().waitFor({ timeout: 60_000 });
    await lens.first().click();
    const ids = await waitFor('the tracer\'s two programs to attach', 120_000, () => (attachedIds().length === 2 ? attachedIds() : undefined));
    const loaded = () => loadedPrograms().filter((p) => ids.includes(p.id));
    assert.equal(programsHeldByTree(server.processGroup, ids).length, 2, 'the agent does not hold the programs the output says were attached');
    workload = startOpening(OPENED);
    await workbench.runCommand('eBPF: Open Events');
    await workbench.pickQuickPickItem(/^\s*events/);
    const view = await workbench.webview(/Events: events · local/);
    const headers = await waitFor('the decoded column headers', 60_000, async () => {
      const cells = (await view.locator('.vt-header .vt-cell').allTextContents().catch(() => [] as string[])).map((t) => t.trim());
      return cells.includes('filename') ? cells : undefined;
    });
    for (const column of ['received', 'pid', 'flags', 'ret', 'comm', 'filename']) assert.ok(headers.includes(column), `column ${column} missing: ${headers.join(' | ')}`);
    const filter = view.locator('[data-role="filter"]');
    await filter.click();
    await workbench.page.keyboard.type(OPENED);
    const cells = await waitFor('a row for the opened file', 60_000, async () => {
      const rows = await view.locator('.vt-window .vt-row').evaluateAll((els) => els.map((r) => [...r.querySelectorAll('.vt-cell')].map((c) => (c.textContent ?? '').trim()))).catch(() => [] as string[][]);
      return rows.find((r) => r.includes(OPENED));
    });
    assert.equal(cells[headers.indexOf('filename')], OPENED, `the file name is not its own text cell: ${cells.join(' | ')}`);
    assert.equal(cells[headers.indexOf('comm')], 'node', `comm: ${cells.join(' | ')}`);
    assert.ok(!cells.some((c) => /^(0x)?[0-9a-f]{32,}$/.test(c)), `a cell is shown in hex: ${cells.join(' | ')}`);
    await workbench.screenshot('decoded-events');
    workload.kill('SIGKILL');
    await workbench.runCommand('eBPF: Detach All');
    await waitFor('the tracer to unload', 30_000, () => (loaded().length === 0 ? true : undefined));
    // the rule page's preview is then the only webview to look into
    await workbench.runCommand('View: Close All Editors');
  });

  step('Attach with parameters on a template\'s probe shows the value its template.json sets as the default', async () => {
    // as New Probe from Template saves a chosen pid: the probe's source still says 0
    const manifestPath = join(server.workspaceDir, 'file-open-tracer', 'template.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { parameters: { name: string; default: unknown }[] };
    for (const parameter of manifest.parameters) if (parameter.name === 'pid') parameter.default = 4321;
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
    await openProbe(`file-open-tracer/${TRACER}`);
    const lens = workbench.codeLens(/Attach with parameters…/);
    await lens.first().waitFor({ timeout: 60_000 });
    await lens.first().click();
    const title = workbench.page.locator('.quick-input-widget .quick-input-title');
    await waitFor('the programs step', 120_000, async () => (/with parameters: programs/.test(await title.innerText().catch(() => '')) ? true : undefined));
    await workbench.page.keyboard.press('Enter');
    await waitFor('the globals step', 30_000, async () => (/with parameters: globals/.test(await title.innerText().catch(() => '')) ? true : undefined));
    const rows = (await workbench.quickPickItems()).map((t) => t.replace(/\s+/g, ' '));
    assert.ok(rows.some((r) => /^targ_tgid = 4321\s*(pid_t|__u32|u32|int).*default from template\.json/.test(r)), rows.join(' | '));
    assert.ok(rows.some((r) => /^failed_only = false\s*bool.*default from template\.json/.test(r)), rows.join(' | '));
    await workbench.page.keyboard.press('Escape');
  });

  step('an attach where no program attaches is unloaded at once; the session is gone and the agent still runs', async () => {
    await openProbe(UNATTACHABLE);
    const lens = workbench.codeLens(/▶ Attach probe/);
    await lens.first().waitFor({ timeout: 60_000 });
    await lens.first().click();
    await waitFor('the failure notification', 120_000, async () => ((await workbench.notifications()).some((n) => /attached on 0 of 1 target/.test(n)) ? true : undefined));
    const unloaded = await waitFor('the unload in the local target\'s output', 30_000, () => /unloaded session (\S+): none of its 2 program\(s\) attached/.exec(localTargetOutput())?.[1]);
    assert.ok(unloaded);
    assert.match(localTargetOutput(), /NOT attached unattached_xdp: .*network interface/);
    assert.deepEqual(newPrograms(UNATTACHABLE_PROGRAMS), [], 'bpftool still shows the unattached programs');
    assert.ok(installedAgentPids().length > 0, 'the agent exited: the unload proves nothing about the session');
    await workbench.page.locator('.activitybar .action-item a[aria-label^="eBPF"]').first().click();
    const rows = workbench.page.locator('.part.sidebar .pane-body .monaco-list-row');
    const seen = await waitFor('the local target row', 30_000, async () => {
      const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
      return texts.some((t) => /^local/.test(t)) ? texts : undefined;
    });
    assert.ok(!seen.some((t) => t.includes('unattachable.bpf.o')), `the session is still listed: ${seen.join(' | ')}`);
    await workbench.page.locator('.activitybar .action-item a[aria-label^="Explorer"]').first().click();
  });

  step('the rule link of a diagnostic opens the rule page rendered, not its markdown source', async () => {
    await workbench.openFile('getppid-latency.bpf.c');
    const problem = await waitFor('the null-check problem', 60_000, async () => (await workbench.problems()).find((p) => /null/i.test(p.label)));
    assert.ok(problem);
    const link = workbench.page.locator('.markers-panel .monaco-list-row', { hasText: /null/i }).first().locator('.code-link, .marker-code a, a.monaco-link').first();
    const rule = (await link.innerText({ timeout: 15_000 })).trim();
    await link.click();
    const tab = workbench.page.locator('.tabs-container .tab', { hasText: `Preview ${rule}.md` });
    await tab.first().waitFor({ timeout: 30_000 });
    const titles = await workbench.page.locator('.tabs-container .tab .label-name').allInnerTexts();
    assert.ok(!titles.some((t) => t.trim() === `${rule}.md`), `the raw markdown opened too: ${titles.join(' | ')}`);
    const preview = await workbench.webview(`Preview ${rule}.md`);
    const heading = await preview.locator('h1').first().innerText({ timeout: 30_000 });
    assert.ok(heading.length > 0);
    assert.doesNotMatch(await preview.locator('body').innerText(), /^#\s/m, 'markdown source shown in the preview');
    await workbench.screenshot('rule-page-rendered');
  });
});
