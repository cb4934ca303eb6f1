// End to end in a real VS Code (code-server in headless Chromium): the packaged .vsix, a probe's static diagnostic,
// its quick fix, the kernel verifier and its agent in the Targets view, attach, a live histogram, detach. Screenshots per step.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { CodeServer } from './harness/code-server';
import { EditorSession } from './harness/editor-session';
import { bundleExtensionTests } from './harness/extension-tests-bundle';
import { loadedMaps, loadedPrograms, mapsLeftBy, processesMentioning, programsLeftBy } from './harness/system-state';
import { studioLog } from './harness/studio-log';
import { waitFor } from './harness/wait-for';
import type { ProblemRow, Workbench } from './harness/workbench';
import { parseSummary, PROBE_FILE } from './extension-api/check-contract';
import { PROJECT_ROOT } from '../packaging/package-vsix';

const OUTPUT_DIR = join(PROJECT_ROOT, 'test-output', 'editor');
const WORKSPACE_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'editor-workspace');
/** The fixture's programs and maps, as bpftool names them. */
const PROBE_PROGRAMS = ['getppid_gap'];
const PROBE_MAPS = ['last_call', 'hists'];
const NULL_CHECK = /null/i;
/** The kernel verifier's words for an unchecked map value, on the static finding it confirms. */
const VERIFIER_REJECTION = /Confirmed by local's kernel verifier: R\d+ invalid mem access 'map_value_or_null'/;

const missing = [
  ...(existsSync(join(PROJECT_ROOT, 'dist', 'client.js')) ? [] : ['dist/ is not built (run `npm run build`)']),
  ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium']),
  ...(process.getuid?.() === 0 ? [] : ['root (the local agent loads BPF programs)']),
];
const skip = missing.length > 0 && process.env.CI !== 'true' ? `prerequisite missing: ${missing.join(', ')}` : false;

/**
 * Steps run in order; once a blocking step fails, the rest fail saying which step blocked them.
 * A non-blocking step (not a prerequisite of what follows) fails alone.
 */
let blockedBy: string | undefined;
function step(name: string, body: () => Promise<void>, { blocking = true } = {}): void {
  test(name, { skip }, async () => {
    if (blockedBy) throw new Error(`not run: the step "${blockedBy}" failed`);
    try {
      await body();
      await workbench.screenshot(slug(name));
    } catch (error) {
      if (blocking) blockedBy = name;
      await workbench?.screenshot(`${slug(name)}-FAILED`).catch(() => undefined);
      throw error;
    }
  });
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

const session = new EditorSession();
let server: CodeServer;
let workbench: Workbench;
let programsBefore = new Set<number>();
let mapsBefore = new Set<number>();
let workload: ChildProcess | undefined;
let verifierRejectedUnfixed = false;
const timings: Record<string, number> = {};

function installedExtensionDir(): string {
  const name = readdirSync(server.extensionsDir).find((n) => n.startsWith('ebpf-studio.ebpf-studio-'));
  if (!name) throw new Error(`eBPF Studio is not installed in ${server.extensionsDir}`);
  return join(server.extensionsDir, name);
}

function agentProcesses(): number[] {
  return processesMentioning(join(installedExtensionDir(), 'dist', 'agent.js')).map((p) => p.pid);
}

async function problemsMatching(re: RegExp): Promise<ProblemRow[]> {
  return (await workbench.problems()).filter((p) => re.test(p.label));
}

/** The probe's programs this session's code-server (its agent) holds or left, loaded since it started. */
function probeProgramIds(): number[] {
  return programsLeftBy(server.processGroup, programsBefore, PROBE_PROGRAMS).map((p) => p.id);
}

/** Opens the probe with its program's SEC line in view, where the code lenses are. */
async function revealProgram(): Promise<void> {
  await workbench.openFile(PROBE_FILE);
  const source = readFileSync(join(server.workspaceDir, PROBE_FILE), 'utf8');
  await workbench.goToLine(source.split('\n').findIndex((l) => l.startsWith('SEC("tracepoint/')) + 1);
}

/**
 * getppid() in bursts of 20,000 calls (the syscall the probe watches) until the test kills it; it also
 * ends by itself once its parent is gone (getppid() changes) or after five minutes.
 */
function startWorkload(): ChildProcess {
  const script = `const parent = process.ppid;
setTimeout(() => process.exit(), 300000);
setInterval(() => { for (let i = 0; i < 20000; i++) if (process.ppid !== parent) process.exit(); }, 20);`;
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

describe('eBPF Studio in a real VS Code (code-server + Chromium)', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    if (skip) return;
    ({ server, workbench } = await session.open({
      outputDir: OUTPUT_DIR,
      tempPrefix: 'ebpf-studio-e2e-',
      workspaceSource: WORKSPACE_FIXTURE,
      beforeStart: () => {
        programsBefore = new Set(loadedPrograms().map((p) => p.id));
        mapsBefore = new Set(loadedMaps().map((m) => m.id));
      },
    }));
  });

  after(async () => {
    if (workload?.pid && workload.exitCode === null) workload.kill('SIGKILL');
    await session.close();
    console.log(`editor test timings (ms): ${JSON.stringify(Object.fromEntries(Object.entries({ ...session.timings, ...timings }).map(([k, v]) => [k, Math.round(v)])))}`);
  });

  step('opening a probe activates the extension without starting an agent', async () => {
    await workbench.openFile(PROBE_FILE);
    timings.activationMs = await waitFor('the activation line in the eBPF Studio output channel', 30_000, () => {
      const match = /activated in ([\d.]+) ms/.exec(studioLog(server.userDataDir));
      return match ? Number(match[1]) : undefined;
    });
    await workbench.runCommand('Output: Show Output Channels...');
    await workbench.pickQuickPickItem('eBPF Studio');
    assert.deepEqual(agentProcesses(), [], 'an agent process started before anything needed one');
  });

  step('the Problems panel shows the static diagnostic for the missing null check', async () => {
    const rows = await waitFor('a null-check problem', 30_000, async () => {
      const found = await problemsMatching(NULL_CHECK);
      return found.length > 0 ? found : undefined;
    });
    assert.ok(rows.some((r) => r.severity === 'error' || r.severity === 'warning'), JSON.stringify(rows));
    assert.deepEqual(agentProcesses(), [], 'static checking started an agent');
  });

  step(
    'the VS Code API checks pass, run by the same entry @vscode/test-electron loads',
    async () => {
      const testsPath = await bundleExtensionTests(session.workDir);
      const lines = await workbench.runExtensionTests(server.extensionTestsUrl(installedExtensionDir(), testsPath), (l) => parseSummary(l) !== undefined, 120_000);
      const report = lines.filter((l) => /^(ok|FAILED) - /.test(l) || parseSummary(l));
      const summary = lines.map(parseSummary).find((s) => s !== undefined);
      assert.ok(summary && summary.passed > 0 && summary.failed === 0, report.join('\n'));
    },
    { blocking: false },
  );

  step('the kernel verifier rejects the unfixed probe', async () => {
    await revealProgram();
    await workbench.runCommand('eBPF: Verify with Kernel');
    const rows = await waitFor('the verifier diagnostic', 90_000, async () => {
      const found = await problemsMatching(VERIFIER_REJECTION);
      return found.length > 0 ? found : undefined;
    });
    // one entry says both: the static finding, confirmed by the kernel (register state behind one link)
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal((await problemsMatching(NULL_CHECK)).length, 1, 'the static finding and the kernel\'s verdict are one Problems entry');
    await workbench.codeLens(/rejected by local's verifier/).first().waitFor({ timeout: 30_000 });
    verifierRejectedUnfixed = true;
  }, { blocking: false });

  step('the Targets view shows local connected: the agent Verify with Kernel opened is the one it lists', async () => {
    await workbench.page.locator('.activitybar .action-item a[aria-label^="eBPF"]').first().click();
    const rows = workbench.page.locator('.pane-body .monaco-list-row');
    let seen: string[] = [];
    const local = await waitFor('the local target row to say connected', 30_000, async () => {
      seen = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
      return seen.find((t) => /^local\s*current · connected/.test(t));
    }).catch((error: Error) => assert.fail(`${error.message}; rows: ${seen.join(' | ')}`));
    assert.ok(local);
    // the connected current target's live feature probe now answers helper questions (client feature target-helper-facts)
    await waitFor('the live helper facts line in the eBPF Studio log', 60_000, () => (new RegExp(`helper facts: live feature probe of local \\(kernel ${release().replace(/[.]/g, '\\.')}\\)`).test(studioLog(server.userDataDir)) ? true : undefined));
    await workbench.page.locator('.activitybar .action-item a[aria-label^="Explorer"]').first().click();
  }, { blocking: false });

  step('the quick fix inserts the null check', async () => {
    await workbench.openFile(PROBE_FILE);
    await workbench.revealProblem(NULL_CHECK);
    const titles = await workbench.quickFixTitles(NULL_CHECK);
    assert.ok(titles.some((t) => NULL_CHECK.test(t)), `quick fixes offered: ${titles.join(', ')}`);
    await workbench.applyQuickFix(NULL_CHECK);
    await waitFor('the inserted null check', 10_000, async () => (/if \(!lastp\)\s+return 0;/.test(await workbench.visibleEditorText()) ? true : undefined));
  });

  step('saving runs the kernel verifier and its verdict clears', async () => {
    await workbench.save();
    assert.ok(verifierRejectedUnfixed, 'the verifier never reported its rejection of the unfixed probe, so a clear verdict would prove nothing');
    await waitFor('the verifier and null-check problems to clear', 90_000, async () => {
      const rows = await problemsMatching(VERIFIER_REJECTION);
      const nullChecks = await problemsMatching(NULL_CHECK);
      return rows.length === 0 && nullChecks.length === 0 ? true : undefined;
    });
    // The verifier's own verdict on the saved file: accepted, with its figures, and not stale.
    await revealProgram();
    const verdict = workbench.codeLens(/verifier on local: [\d,]+ of [\d,]+ insns/);
    await verdict.first().waitFor({ timeout: 90_000 });
    assert.doesNotMatch(await verdict.first().innerText(), /before your last edits/);
  }, { blocking: false });

  step('the ▶ Attach code lens attaches the probe on the local target', async () => {
    await revealProgram();
    const lens = workbench.codeLens(/▶ Attach probe/);
    await lens.first().waitFor({ timeout: 30_000 });
    await lens.first().click();
    const prompted = await waitFor('a target prompt or the attach', 90_000, async () =>
      (await workbench.quickInputVisible()) ? true : probeProgramIds().length > 0 ? false : undefined,
    );
    if (prompted) await workbench.pickQuickPickItem(/local/i);
    const ids = await waitFor('the probe programs to be loaded', 90_000, () => {
      const found = probeProgramIds();
      return found.length === PROBE_PROGRAMS.length ? found : undefined;
    });
    assert.equal(ids.length, PROBE_PROGRAMS.length);
    assert.ok(agentProcesses().length > 0, 'attached, yet no agent process from the installed extension is running');
  });

  step('the histogram view shows counts growing while a workload runs', async () => {
    await workbench.runCommand('eBPF: Open Histogram');
    await workbench.pickQuickPickItem(/^\s*hists/);
    const view = await workbench.webview(/Histogram: hists · local/);
    const total = async (): Promise<number | undefined> => {
      const text = await view.locator('[data-stat="total"] b').first().innerText({ timeout: 1_000 }).catch(() => '');
      const count = Number(text.replace(/,/g, ''));
      return text !== '' && Number.isFinite(count) ? count : undefined;
    };
    const first = await waitFor('a total count in the histogram view', 30_000, total);
    workload = startWorkload();
    const grown = await waitFor('the histogram total to grow', 30_000, async () => {
      const now = await total();
      return now !== undefined && now > first ? now : undefined;
    });
    const grownAgain = await waitFor('the histogram total to keep growing by a workload burst', 30_000, async () => {
      const now = await total();
      return now !== undefined && now > grown && now - first >= 20_000 ? now : undefined;
    });
    // One burst of the workload is 20,000 calls; the rest of this machine calls getppid() far less often.
    assert.ok(grownAgain - first >= 20_000, `the histogram grew by only ${grownAgain - first} while the workload ran`);
  });

  step('the map row\'s visible Open Map action opens a tab titled apart from the histogram', async () => {
    await workbench.page.locator('.activitybar .action-item a[aria-label^="eBPF"]').first().click();
    // list rows are absolutely placed: their DOM order is not the order shown; their data-index is
    const rows = workbench.page.locator('.part.sidebar .pane-body .monaco-list-row');
    let seen: { index: number; text: string }[] = [];
    // the label and description run together in innerText: "histsarray · 1 entry max"
    const isHists = (t: string) => t.startsWith('hists');
    const openMapIndex = await waitFor('the hists map row and its actions', 30_000, async () => {
      const texts = await rows.allInnerTexts();
      const indices = await rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-index'))));
      seen = texts.map((t, i) => ({ index: indices[i], text: t.replace(/\s+/g, ' ').trim() })).sort((a, b) => a.index - b.index);
      const hists = seen.findIndex((r) => isHists(r.text));
      return hists >= 0 ? seen.find((r, i) => i > hists && /Open Map/.test(r.text))?.index : undefined;
    }).catch((error: Error) => assert.fail(`${error.message}; rows: ${seen.map((r) => r.text).join(' | ')}`));
    await rows.and(workbench.page.locator(`[data-index="${openMapIndex}"]`)).filter({ visible: true }).first().click();
    await workbench.page.locator('.tabs-container .tab', { hasText: 'Map: hists · local' }).waitFor({ timeout: 30_000 });
    const titles = await workbench.page.locator('.tabs-container .tab .label-name').allInnerTexts();
    assert.ok(titles.includes('Histogram: hists · local'), titles.join(' | '));
  }, { blocking: false });

  step('detach unloads the probe and leaves no BPF program loaded', async () => {
    if (workload?.pid && workload.exitCode === null) workload.kill('SIGKILL');
    await workbench.openFile(PROBE_FILE);
    await workbench.runCommand('eBPF: Detach All');
    await waitFor('the probe programs to be unloaded', 30_000, () => (probeProgramIds().length === 0 ? true : undefined));
    await waitFor('Detach All to say what it did', 15_000, async () => ((await workbench.notifications()).some((n) => /detached 1 session on local/.test(n)) ? true : undefined));
    // bpftool prog/map show, before the session and now: nothing of the probe is left, pinned or held by this session
    // (the kernel frees maps shortly after their last program, so this waits for that too).
    const probeLeft = () => [
      ...programsLeftBy(server.processGroup, programsBefore, PROBE_PROGRAMS),
      ...mapsLeftBy(server.processGroup, mapsBefore, PROBE_MAPS),
    ];
    await waitFor('the probe to leave the kernel', 30_000, () => (probeLeft().length === 0 ? true : undefined)).catch(() => undefined);
    assert.deepEqual(probeLeft(), [], 'the probe is still in the kernel after Detach All');
  });
});
