// Probes nobody here wrote (../shared/realworld) attached from a real VS Code on this machine's kernel: libbpf-tools'
// opensnoop through "Attach with parameters…" (targ_tgid set to one process; its ring-buffer events decoded, path as
// text, only that process's), and libbpf-bootstrap's kprobe, which attaches or is refused naming CONFIG_KPROBES.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CodeServer } from './harness/code-server';
import { EditorSession } from './harness/editor-session';
import { loadedPrograms, programsHeldByTree } from './harness/system-state';
import { localTargetLog, studioLog } from './harness/studio-log';
import { startOpening } from './harness/file-opener';
import { waitFor } from './harness/wait-for';
import type { Workbench } from './harness/workbench';
import { PROJECT_ROOT } from '../packaging/package-vsix';

const OUTPUT_DIR = join(PROJECT_ROOT, 'test-output', 'editor-realworld-probes');
const REALWORLD = resolve(PROJECT_ROOT, '..', 'shared', 'realworld');
const TOOLS = join(REALWORLD, 'libbpf-tools');
const PROBE = 'opensnoop.bpf.c';

const missing = [
  ...(existsSync(join(PROJECT_ROOT, 'dist', 'client.js')) ? [] : ['dist/ is not built (run `npm run build`)']),
  ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium']),
  ...(process.getuid?.() === 0 ? [] : ['root (the local agent loads BPF programs)']),
  ...(existsSync('/sys/kernel/btf/vmlinux') ? [] : ['/sys/kernel/btf/vmlinux (vmlinux.h for the probe)']),
  ...(existsSync(join(TOOLS, PROBE)) ? [] : [`${join(TOOLS, PROBE)} (the shared real-world probes)`]),
];
const skip = missing.length > 0 && process.env.CI !== 'true' ? `prerequisite missing: ${missing.join(', ')}` : false;

const session = new EditorSession();
let server: CodeServer;
let workbench: Workbench;
let workspaceSource = '';
let workload: ChildProcess | undefined;
const OPENED = join(tmpdir(), `ebpf-studio-opensnoop-${process.pid}.txt`);

let blockedBy: string | undefined;
function step(name: string, body: () => Promise<void>): void {
  test(name, { skip }, async () => {
    if (blockedBy) throw new Error(`not run: the step "${blockedBy}" failed`);
    try {
      await body();
    } catch (error) {
      blockedBy = name;
      await workbench?.screenshot('FAILED').catch(() => undefined);
      throw error;
    }
  });
}

const localTargetOutput = () => localTargetLog(server.userDataDir);

/** Ids of the opensnoop programs the output says were attached. */
function attachedIds(): number[] {
  return [...localTargetOutput().matchAll(/attached tracepoint__syscalls__sys_\w+ \(.*?\), program id (\d+)/g)].map((m) => Number(m[1]));
}

function quickInputTitle(): Promise<string> {
  return workbench.page.locator('.quick-input-widget .quick-input-title').innerText({ timeout: 1_000 }).then((t) => t.trim(), () => '');
}

async function waitForTitle(pattern: RegExp): Promise<void> {
  await waitFor(`a quick input titled ${pattern}`, 180_000, async () => (pattern.test(await quickInputTitle()) ? true : undefined));
}

describe('real-world probes attached from a real VS Code', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    if (skip) return;
    // code-server opens a temp copy of the folder (the harness copies every workspace); the shared folder stays as it is
    workspaceSource = mkdtempSync(join(tmpdir(), 'ebpf-studio-realworld-ws-'));
    cpSync(REALWORLD, workspaceSource, { recursive: true });
    ({ server, workbench } = await session.open({ outputDir: OUTPUT_DIR, tempPrefix: 'ebpf-studio-realworld-', workspaceSource }));
  });

  after(async () => {
    if (workload?.pid && workload.exitCode === null) workload.kill('SIGKILL');
    await session.close();
    if (workspaceSource) rmSync(workspaceSource, { recursive: true, force: true });
    rmSync(OPENED, { force: true });
  });

  step('targ_tgid is offered with its type and set to one process before load', async () => {
    workload = startOpening(OPENED);
    await workbench.openFile(PROBE);
    await waitFor('eBPF Studio to activate', 60_000, () => (/activated in [\d.]+ ms/.test(studioLog(server.userDataDir)) ? true : undefined));
    const lines = readFileSync(join(server.workspaceDir, 'libbpf-tools', PROBE), 'utf8').split('\n');
    await workbench.goToLine(lines.findIndex((l) => l.startsWith('SEC("')) + 1);
    const lens = workbench.codeLens(/Attach with parameters…/);
    await lens.first().waitFor({ timeout: 60_000 });
    await lens.first().click();
    await waitForTitle(/with parameters: programs/);
    await workbench.page.keyboard.press('Enter');
    await waitForTitle(/with parameters: globals/);
    const rows = (await workbench.quickPickItems()).map((t) => t.replace(/\s+/g, ' '));
    for (const name of ['targ_pid', 'targ_tgid', 'targ_uid', 'targ_failed', 'full_path']) assert.ok(rows.some((r) => r.startsWith(`${name} = `)), `${name}: ${rows.join(' | ')}`);
    assert.ok(rows.some((r) => /^targ_tgid = 0\s*pid_t/.test(r)), rows.join(' | '));
    await workbench.page.locator('.quick-input-widget .monaco-list-row', { hasText: /^\s*targ_tgid = / }).first().click();
    await waitForTitle(/^targ_tgid \(pid_t\)/);
    await workbench.page.locator('.quick-input-widget input.input').fill(String(workload.pid));
    await workbench.page.keyboard.press('Enter');
    await waitForTitle(/with parameters: globals/);
    await workbench.page.locator('.quick-input-widget .monaco-list-row', { hasText: /Attach with these values/ }).first().click();
    const ids = await waitFor('opensnoop\'s programs to attach', 180_000, () => (attachedIds().length >= 2 ? attachedIds() : undefined));
    assert.equal(programsHeldByTree(server.processGroup, ids).length, ids.length, 'the agent does not hold the programs the output says were attached');
  });

  step('its ring-buffer events show decoded, the path as text, and only from that process', async () => {
    await workbench.runCommand('eBPF: Open Events');
    await workbench.pickQuickPickItem(/^\s*events/);
    const view = await workbench.webview(/Events: events · local/);
    const headers = await waitFor('decoded column headers', 60_000, async () => {
      const cells = (await view.locator('.vt-header .vt-cell').allTextContents().catch(() => [] as string[])).map((t) => t.trim());
      return cells.includes('comm') ? cells : undefined;
    });
    const pathColumn = headers.findIndex((h) => /pathes/.test(h));
    assert.ok(pathColumn > 0 && headers.includes('pid'), `columns: ${headers.join(' | ')}`);
    const rows = await waitFor('rows for the opened file', 60_000, async () => {
      const found = await view.locator('.vt-window .vt-row').evaluateAll((els) => els.map((r) => [...r.querySelectorAll('.vt-cell')].map((c) => (c.textContent ?? '').trim()))).catch(() => [] as string[][]);
      return found.filter((r) => r.length > 1).length >= 3 ? found.filter((r) => r.length > 1) : undefined;
    });
    const pid = String(workload?.pid);
    // targ_tgid took effect: every event is the workload's (node), and its file's path is text in its column
    for (const row of rows) {
      assert.equal(row[headers.indexOf('pid')], pid, `an event of another process: ${row.join(' | ')}`);
      assert.equal(row[headers.indexOf('comm')], 'node', row.join(' | '));
    }
    assert.ok(rows.some((row) => row[pathColumn] === OPENED), `no row with the path ${OPENED}: ${rows.map((r) => r[pathColumn]).join(' | ')}`);
    await workbench.screenshot('opensnoop-events');
    workload?.kill('SIGKILL');
    const ids = attachedIds();
    await workbench.runCommand('eBPF: Detach All');
    await waitFor('opensnoop to unload', 30_000, () => (loadedPrograms().some((p) => ids.includes(p.id)) ? undefined : true));
  });

  step('libbpf-bootstrap kprobe attaches where the kernel has kprobes, else is refused in one sentence naming CONFIG_KPROBES', async () => {
    // the kernel is the oracle: tracefs lists kprobe_events only when CONFIG_KPROBES is on
    const kprobes = ['/sys/kernel/tracing/kprobe_events', '/sys/kernel/debug/tracing/kprobe_events'].some((p) => existsSync(p));
    await workbench.openFile('kprobe.bpf.c');
    const lines = readFileSync(join(server.workspaceDir, 'libbpf-bootstrap', 'kprobe.bpf.c'), 'utf8').split('\n');
    await workbench.goToLine(lines.findIndex((l) => l.startsWith('SEC("kprobe')) + 1);
    const lens = workbench.codeLens(/▶ Attach probe/);
    await lens.first().waitFor({ timeout: 60_000 });
    await lens.first().click();
    const toast = await waitFor('the attach notification', 180_000, async () => (await workbench.notifications()).find((n) => /kprobe\.bpf\.c attached on local|attached on 0 of 1 target/.test(n)));
    if (kprobes) {
      assert.match(toast, /kprobe\.bpf\.c attached on local \(do_unlinkat, do_unlinkat_exit\)/);
      await workbench.runCommand('eBPF: Detach All');
    } else {
      assert.match(toast, /attached on 0 of 1 target\(s\); local: cannot attach kprobe\/do_unlinkat: this kernel was built without CONFIG_KPROBES/);
      assert.doesNotMatch(toast, /undefined|errno \d+$/);
      await waitFor('the unattached session to be unloaded', 30_000, () => (/unloaded session \S+: none of its 2 program\(s\) attached/.test(localTargetOutput()) ? true : undefined));
    }
    await workbench.screenshot('kprobe-outcome');
  });
});
