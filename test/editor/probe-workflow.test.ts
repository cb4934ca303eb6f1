// End to end in a real VS Code (code-server in headless Chromium): the packaged .vsix, a probe's
// static diagnostic, its quick fix, the kernel verifier, attach, a live histogram, detach. Screenshots per step.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodeServer, ensureCodeServer } from './harness/code-server';
import { packageHelperExtension } from './harness/helper-extension-package';
import { loadedPrograms, processesMentioning } from './harness/system-state';
import { waitFor } from './harness/wait-for';
import { Workbench, type ProblemRow } from './harness/workbench';
import { PROBE_FILE, RESULTS_ENV, RUN_CHECKS_TITLE, type CheckOutcome } from './extension-api/check-contract';
import { packageVsix, PROJECT_ROOT } from '../packaging/package-vsix';

const OUTPUT_DIR = join(PROJECT_ROOT, 'test-output', 'editor');
const WORKSPACE_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'editor-workspace');
const ACTIVATION_BUDGET_MS = 200;
const PROBE_PROGRAMS = ['getppid_enter', 'getppid_exit'];
const NULL_CHECK = /null/i;

const missing = [
  ...(existsSync(join(PROJECT_ROOT, 'dist', 'client.js')) ? [] : ['dist/ is not built (run `npm run build`)']),
  ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium']),
  ...(process.getuid?.() === 0 ? [] : ['root (the local agent loads BPF programs)']),
];
const skip = missing.length > 0 && process.env.CI !== 'true' ? `prerequisite missing: ${missing.join(', ')}` : false;

/** Steps run in order; once one fails, the rest fail saying which step blocked them. */
let blockedBy: string | undefined;
function step(name: string, body: () => Promise<void>): void {
  test(name, { skip }, async () => {
    if (blockedBy) throw new Error(`not run: the step "${blockedBy}" failed`);
    try {
      await body();
      await workbench.screenshot(slug(name));
    } catch (error) {
      blockedBy = name;
      await workbench?.screenshot(`${slug(name)}-FAILED`).catch(() => undefined);
      throw error;
    }
  });
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

let workDir = '';
let server: CodeServer;
let workbench: Workbench;
let programsBefore = new Set<number>();
let workload: ChildProcess | undefined;
const timings: Record<string, number> = {};

function installedExtensionDir(): string {
  const name = readdirSync(server.extensionsDir).find((n) => n.startsWith('ebpf-studio.ebpf-studio-'));
  if (!name) throw new Error(`eBPF Studio is not installed in ${server.extensionsDir}`);
  return join(server.extensionsDir, name);
}

function agentProcesses(): number[] {
  return processesMentioning(join(installedExtensionDir(), 'dist', 'agent.js')).map((p) => p.pid);
}

/** Text of every file under the session's logs whose name says it is the eBPF Studio channel. */
function studioLog(): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const path = join(dir, n);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  const logsDir = join(server.userDataDir, 'logs');
  if (!existsSync(logsDir)) return '';
  return walk(logsDir)
    .filter((p) => p.endsWith('eBPF Studio.log'))
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n');
}

async function problemsMatching(re: RegExp): Promise<ProblemRow[]> {
  return (await workbench.problems()).filter((p) => re.test(p.label));
}

function probeProgramIds(): number[] {
  return loadedPrograms()
    .filter((p) => PROBE_PROGRAMS.includes(p.name) && !programsBefore.has(p.id))
    .map((p) => p.id);
}

function startWorkload(): ChildProcess {
  // getppid() in bursts until the test kills it: the syscall the probe times.
  const child = spawn(process.execPath, ['-e', 'setInterval(() => { for (let i = 0; i < 20000; i++) process.ppid; }, 20);'], { stdio: 'ignore' });
  return child;
}

describe('eBPF Studio in a real VS Code (code-server + Chromium)', { timeout: 20 * 60_000 }, () => {
  before(async () => {
    if (skip) return;
    rmSync(OUTPUT_DIR, { recursive: true, force: true });
    mkdirSync(OUTPUT_DIR, { recursive: true });
    workDir = mkdtempSync(join(tmpdir(), 'ebpf-studio-e2e-'));
    let started = performance.now();
    const entryScript = await ensureCodeServer();
    timings.codeServerInstallMs = performance.now() - started;
    started = performance.now();
    const vsix = join(workDir, 'ebpf-studio.vsix');
    await packageVsix(vsix);
    const helper = await packageHelperExtension(workDir);
    timings.packageMs = performance.now() - started;
    programsBefore = new Set(loadedPrograms().map((p) => p.id));
    started = performance.now();
    server = await CodeServer.start({
      entryScript,
      vsixPaths: [vsix, helper],
      workspaceSource: WORKSPACE_FIXTURE,
      logPath: join(OUTPUT_DIR, 'code-server.log'),
      env: { [RESULTS_ENV]: join(workDir, 'api-checks.json') },
    });
    workbench = await Workbench.open(server.workbenchUrl, OUTPUT_DIR);
    timings.workbenchStartMs = performance.now() - started;
  });

  after(async () => {
    if (workload?.pid && workload.exitCode === null) workload.kill('SIGKILL');
    await workbench?.close().catch(() => undefined);
    await server?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    console.log(`editor test timings (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  });

  step('opening a probe activates the extension in under 200 ms and starts no agent', async () => {
    await workbench.openFile(PROBE_FILE);
    const activation = await waitFor('the activation line in the eBPF Studio output channel', 30_000, () => {
      const match = /activated in ([\d.]+) ms/.exec(studioLog());
      return match ? Number(match[1]) : undefined;
    });
    timings.activationMs = activation;
    const hostMeasured = await workbench.hostMeasuredActivationMs('eBPF Studio');
    timings.hostMeasuredActivationMs = hostMeasured;
    await workbench.screenshot('running-extensions');
    await workbench.runCommand('Output: Show Output Channels...');
    await workbench.pickQuickPickItem('eBPF Studio');
    assert.ok(activation < ACTIVATION_BUDGET_MS, `activate() took ${activation} ms by its own clock (budget ${ACTIVATION_BUDGET_MS} ms)`);
    assert.ok(hostMeasured < ACTIVATION_BUDGET_MS, `VS Code measured ${hostMeasured} ms to load and activate the extension (budget ${ACTIVATION_BUDGET_MS} ms)`);
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

  step('the VS Code API checks pass (the suite @vscode/test-electron runs too)', async () => {
    const resultsPath = join(workDir, 'api-checks.json');
    await workbench.runCommand(RUN_CHECKS_TITLE);
    const outcome = await waitFor('the API check results', 60_000, () =>
      existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as CheckOutcome) : undefined,
    );
    assert.equal(outcome.error, undefined, outcome.error);
    const failed = (outcome.results ?? []).filter((r) => !r.ok);
    assert.deepEqual(failed, [], (outcome.results ?? []).map((r) => `${r.ok ? 'ok' : 'FAILED'} ${r.name}: ${r.detail}`).join('\n'));
  });

  step('the kernel verifier rejects the unfixed probe', async () => {
    await workbench.openFile(PROBE_FILE);
    await workbench.runCommand('eBPF: Verify with Kernel');
    await waitFor('the verifier diagnostic', 90_000, async () => {
      const rows = await problemsMatching(/map_value_or_null|invalid mem access/i);
      return rows.length > 0 ? rows : undefined;
    });
  });

  step('the quick fix inserts the null check', async () => {
    await workbench.openFile(PROBE_FILE);
    await workbench.revealProblem(NULL_CHECK);
    const titles = await workbench.quickFixTitles();
    assert.ok(titles.some((t) => NULL_CHECK.test(t)), `quick fixes offered: ${titles.join(', ')}`);
    await workbench.applyQuickFix(NULL_CHECK);
    await waitFor('the inserted null check', 10_000, async () => ((await workbench.editorText()).includes('if (!tsp)') ? true : undefined));
  });

  step('saving runs the kernel verifier and its verdict clears', async () => {
    await workbench.save();
    await waitFor('the verifier and null-check problems to clear', 90_000, async () => {
      const rows = await problemsMatching(/map_value_or_null|invalid mem access|null/i);
      return rows.length === 0 ? true : undefined;
    });
  });

  step('the ▶ Attach code lens attaches the probe on the local target', async () => {
    await workbench.openFile(PROBE_FILE);
    const lens = workbench.codeLens(/Attach/);
    await lens.first().waitFor({ timeout: 30_000 });
    await lens.first().click();
    if (await waitFor('a target prompt or the attach', 10_000, async () => ((await workbench.quickInputVisible()) || probeProgramIds().length > 0 ? true : undefined))) {
      if (await workbench.quickInputVisible()) await workbench.pickQuickPickItem(/local/i);
    }
    const ids = await waitFor('the probe programs to be loaded', 90_000, () => {
      const found = probeProgramIds();
      return found.length === PROBE_PROGRAMS.length ? found : undefined;
    });
    assert.equal(ids.length, PROBE_PROGRAMS.length);
    assert.ok(agentProcesses().length > 0, 'attached, yet no agent process from the installed extension is running');
  });

  step('the histogram view shows counts growing while a workload runs', async () => {
    await workbench.runCommand('eBPF: Open Histogram');
    if (await workbench.quickInputVisible()) await workbench.pickQuickPickItem(/hists/);
    const view = await workbench.webview(/histogram|hists/i);
    const total = async (): Promise<number | undefined> => {
      const text = await view.locator('[data-total]').first().getAttribute('data-total', { timeout: 1_000 }).catch(() => null);
      return text === null ? undefined : Number(text);
    };
    const first = await waitFor('a total count in the histogram view', 30_000, total);
    workload = startWorkload();
    const grown = await waitFor('the histogram total to grow', 30_000, async () => {
      const now = await total();
      return now !== undefined && now > first ? now : undefined;
    });
    const grownAgain = await waitFor('the histogram total to keep growing', 30_000, async () => {
      const now = await total();
      return now !== undefined && now > grown ? now : undefined;
    });
    assert.ok(grownAgain > grown && grown > first);
  });

  step('detach unloads the probe and leaves no BPF program loaded', async () => {
    if (workload?.pid && workload.exitCode === null) workload.kill('SIGKILL');
    await workbench.openFile(PROBE_FILE);
    await workbench.runCommand('eBPF: Detach All');
    await waitFor('the probe programs to be unloaded', 30_000, () => (probeProgramIds().length === 0 ? true : undefined));
    const leaked = loadedPrograms().filter((p) => !programsBefore.has(p.id));
    assert.deepEqual(leaked, [], `programs still loaded after detach: ${JSON.stringify(leaked)}`);
  });
});
