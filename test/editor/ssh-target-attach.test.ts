// In a real VS Code (code-server) against a real sshd with no Node and no SFTP, as an ordinary user whose sudo wants a password:
// Attach Probe asks about the host key and the sudo password, brings the runtime and agent, attaches; Detach All leaves nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { agentPackage } from '../../engine/targets/agent-upload';
import { DEFAULT_INSTALL_ROOT } from '../../engine/targets/agent-install';
import { defaultRuntimeCache } from '../../engine/targets/node-runtime';
import { packageVsix, PROJECT_ROOT } from '../packaging/package-vsix';
import { loadedProgramIds } from '../kernel/loaded-programs';
import { sshPrerequisiteMissing, startSshd, type TestSshd } from '../ssh/sshd-harness';
import { CodeServer, ensureCodeServer } from './harness/code-server';
import { programsLeftBy } from './harness/system-state';
import { waitFor } from './harness/wait-for';
import { Workbench } from './harness/workbench';

const OUTPUT_DIR = join(PROJECT_ROOT, 'test-output', 'editor-ssh-target');
const PROBE = 'count-yield.bpf.c';
const missing = [
  ...(existsSync(join(PROJECT_ROOT, 'dist', 'client.js')) && existsSync(join(PROJECT_ROOT, 'dist', 'agent.js')) ? [] : ['dist/ is not built (run `npm run build`)']),
  ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium']),
  ...(sshPrerequisiteMissing() ? [sshPrerequisiteMissing() as string] : []),
];
const skip = missing.length > 0 && process.env.CI !== 'true' ? `prerequisite missing: ${missing.join(', ')}` : false;

/** count_yield programs loaded since the session began that the agent under this test's sshd holds or no process holds. */
function probeProgramIds(): number[] {
  return programsLeftBy(sshd?.pid ?? -1, programsBefore, ['count_yield']).map((p) => p.id);
}

let workDir = '';
let sshd: TestSshd | undefined;
let server: CodeServer | undefined;
let workbench: Workbench;
let remoteAgentDir = '';
let remoteCacheExisted = true;
let remoteAgentExisted = true;
let programsBefore = new Set<number>();
const user = `ebpfed${process.pid % 100000}`;
const password = `Sudo-${process.pid}-${Date.now()}`;
const sudoers = `/etc/sudoers.d/ebpf-studio-editor-${process.pid}`;

describe('SSH target attach in a real VS Code', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    if (skip) return;
    if (missing.length > 0) throw new Error(`prerequisite missing: ${missing.join(', ')}`);
    rmSync(OUTPUT_DIR, { recursive: true, force: true });
    mkdirSync(OUTPUT_DIR, { recursive: true });
    workDir = mkdtempSync(join(tmpdir(), 'ebpf-studio-editor-ssh-'));
    sshd = await startSshd({ sftp: false, hideNode: true });
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', user]);
    execFileSync('chpasswd', { input: `${user}:${password}\n` });
    writeFileSync(sudoers, `${user} ALL=(root) ALL\n`, { mode: 0o440 });
    const machine = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
    remoteAgentDir = join(DEFAULT_INSTALL_ROOT, 'agent', agentPackage(join(PROJECT_ROOT, 'dist', 'agent.js'), machine)?.dir ?? 'none');
    remoteAgentExisted = existsSync(remoteAgentDir);
    remoteCacheExisted = existsSync(DEFAULT_INSTALL_ROOT);
    const workspace = join(workDir, 'workspace');
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    copyFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'targets', PROBE), join(workspace, PROBE));
    writeFileSync(
      join(workspace, '.vscode', 'settings.json'),
      JSON.stringify({
        'ebpfStudio.targets': [{ name: 'loopback', host: '127.0.0.1', port: sshd.port, user, identityFile: sshd.userKey }],
        'ebpfStudio.currentTarget': 'loopback',
        'ebpfStudio.verifyOnSave': false,
      }),
    );
    const entryScript = await ensureCodeServer();
    const vsix = join(workDir, 'ebpf-studio.vsix');
    await packageVsix(vsix);
    server = await CodeServer.start({ entryScript, vsixPaths: [vsix], workspaceSource: workspace, logPath: join(OUTPUT_DIR, 'code-server.log'), env: { SSH_AUTH_SOCK: '', EBPF_STUDIO_RUNTIME_CACHE: defaultRuntimeCache() } });
    workbench = await Workbench.open(server.workbenchUrl, OUTPUT_DIR);
    programsBefore = loadedProgramIds();
  });

  after(async () => {
    await workbench?.close().catch(() => undefined);
    await server?.stop();
    await sshd?.stop();
    rmSync(sudoers, { force: true });
    try {
      execFileSync('userdel', ['--remove', user], { stdio: 'ignore' });
    } catch {
      // not created
    }
    if (remoteAgentDir && !remoteAgentExisted) rmSync(remoteAgentDir, { recursive: true, force: true });
    if (remoteAgentDir && !remoteCacheExisted) rmSync(DEFAULT_INSTALL_ROOT, { recursive: true, force: true });
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test('Attach Probe asks about the host key with its fingerprint, then attaches on the host', { skip }, async () => {
    try {
      await workbench.openFile(PROBE);
      await waitFor('the status bar to show the SSH target', 60_000, async () => ((await workbench.statusBarItems()).some((t) => t.includes('eBPF: loopback')) ? true : undefined));
      await waitFor('"eBPF: Attach Probe" in the command palette', 60_000, async () => {
        try {
          await workbench.runCommand('eBPF: Attach Probe');
          return true;
        } catch {
          return undefined;
        }
      });
      const dialog = workbench.page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 60_000 });
      const text = await dialog.innerText();
      assert.ok(text.includes((sshd as TestSshd).hostFingerprint), `the dialog shows the fingerprint: ${text}`);
      assert.match(text, /first connection to loopback/);
      await workbench.screenshot('host-key-question');
      await dialog.locator('.monaco-button', { hasText: 'Trust and Connect' }).click();
      const input = workbench.page.locator('.quick-input-widget');
      await waitFor('the sudo password question', 90_000, async () => ((await input.isVisible()) && (await input.innerText()).includes(`sudo password for ${user}`) ? true : undefined));
      await workbench.screenshot('sudo-password-question');
      await input.locator('input').fill(password);
      await workbench.page.keyboard.press('Enter');
      const ids = await waitFor('count_yield loaded on the host', 90_000, () => {
        const now = probeProgramIds();
        return now.length ? now : undefined;
      });
      assert.equal(ids.length, 1);
      await waitFor('the attached notification', 30_000, async () => ((await workbench.notifications()).some((n) => /attached on loopback/.test(n)) ? true : undefined));
      const knownHosts = readFileSync(join(dirname((server as CodeServer).userDataDir), 'home', '.ssh', 'known_hosts'), 'utf8');
      assert.match(knownHosts, /^\|1\|\S+ ssh-ed25519 /m, 'the trusted key was saved, hashed');
      assert.ok(existsSync(join(remoteAgentDir, 'run-agent')), 'the agent was installed, root-owned, into its versioned folder');
      await workbench.screenshot('attached');
    } catch (error) {
      await workbench.screenshot('attach-FAILED').catch(() => undefined);
      throw error;
    }
  });

  test('the eBPF Targets tree shows the target attached, with the session\'s program and maps', { skip }, async () => {
    try {
      await workbench.page.locator('.activitybar .action-item a[aria-label^="eBPF"]').first().click();
      const rows = workbench.page.locator('.pane-body .monaco-list-row');
      const texts = await waitFor('the targets tree rows', 30_000, async () => {
        const all = await rows.allInnerTexts();
        return all.some((t) => t.includes('count_yield')) ? all : undefined;
      });
      const flat = texts.map((t) => t.replace(/\s+/g, ' '));
      assert.ok(flat.some((t) => /loopback.*current · attached/.test(t)), `target row: ${flat.join(' | ')}`);
      assert.ok(flat.some((t) => /local.*not connected/.test(t)), `local row: ${flat.join(' | ')}`);
      assert.ok(flat.some((t) => /count_yield.*tracepoint\/syscalls\/sys_enter_sched_yield.*attached, id \d+/.test(t)), `program row: ${flat.join(' | ')}`);
      assert.ok(flat.some((t) => /calls.*array/.test(t)) && flat.some((t) => /events.*ringbuf/.test(t)), `map rows: ${flat.join(' | ')}`);
      await workbench.screenshot('targets-tree');
    } catch (error) {
      await workbench.screenshot('tree-FAILED').catch(() => undefined);
      throw error;
    }
  });

  test('Detach All leaves nothing of the session loaded on the host', { skip }, async () => {
    try {
      const attached = probeProgramIds();
      assert.equal(attached.length, 1, 'the previous step attached the probe');
      await workbench.runCommand('eBPF: Detach All');
      await waitFor('count_yield unloaded', 30_000, () => (probeProgramIds().length === 0 ? true : undefined));
      await workbench.screenshot('detached');
    } catch (error) {
      await workbench.screenshot('detach-FAILED').catch(() => undefined);
      throw error;
    }
  });
});
