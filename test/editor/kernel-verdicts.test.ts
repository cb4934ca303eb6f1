// In a real VS Code (code-server + Chromium): with ebpfStudio.verifyKernels ["6.1"], Verify with Kernel boots 6.1 in
// QEMU beside this machine's kernel; the Problems row says 6.1 rejects the line and this kernel accepts, and links 6.1's log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cachedKernels, kernelCacheRoot } from '../../engine/kernels/kernel-images';
import { PROJECT_ROOT } from '../packaging/package-vsix';
import type { CodeServer } from './harness/code-server';
import { EditorSession } from './harness/editor-session';
import { studioLog } from './harness/studio-log';
import { processesMentioning } from './harness/system-state';
import { waitFor } from './harness/wait-for';
import type { Workbench } from './harness/workbench';

const OUTPUT_DIR = join(PROJECT_ROOT, 'test-output', 'editor-kernels');
const WORKSPACE = join(PROJECT_ROOT, 'test', 'fixtures', 'kernel-matrix');
const PROBE = 'switch-cookies.bpf.c';

function commandExists(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// code-server runs with a throw-away HOME; the kernels are the ones scripts/install-kernels.sh unpacked.
process.env.EBPF_STUDIO_KERNELS ??= kernelCacheRoot();
const kernel61 = cachedKernels().find((k) => k.release.startsWith('6.1.'));
const missing = [
  ...(existsSync(join(PROJECT_ROOT, 'dist', 'client.js')) ? [] : ['dist/ is not built (run `npm run build`)']),
  ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium']),
  ...(process.getuid?.() === 0 ? [] : ['root (the local agent loads BPF programs)']),
  ...(commandExists('qemu-system-x86_64') ? [] : ['qemu-system-x86_64 (scripts/setup.sh)']),
  ...(kernel61 ? [] : ['a 6.1 kernel (bash scripts/install-kernels.sh)']),
];
if (missing.length > 0 && process.env.CI === 'true') throw new Error(`the kernel verdicts editor test needs ${missing.join(', ')}`);
const skip = missing.length > 0 ? `prerequisite missing: ${missing.join(', ')}` : false;

describe('verdicts of several kernels in the editor', { timeout: 20 * 60_000 }, () => {
  const session = new EditorSession();
  let workbench: Workbench;
  let server: CodeServer;

  before(async () => {
    if (skip) return;
    ({ server, workbench } = await session.open({ outputDir: OUTPUT_DIR, tempPrefix: 'ebpf-studio-kernels-', workspaceSource: WORKSPACE }));
  });

  after(async () => {
    await session.close();
  });

  test('6.1 rejects the cookie call on its line, this kernel accepts; 6.1\'s log opens from the problem; no QEMU after', { skip }, async (t) => {
    t.after(() => workbench?.screenshot('kernel-verdicts-end').catch(() => undefined));
    // From the Explorer (the workspace holds just the probe): quick open waits on a file search that is slow under load.
    await workbench.page.locator('.explorer-folders-view .monaco-list-row', { hasText: PROBE }).first().dblclick({ timeout: 60_000 });
    await workbench.page.locator('.tabs-container .tab.active', { hasText: PROBE }).waitFor({ timeout: 30_000 });
    await waitFor('eBPF Studio to activate', 60_000, () => (/activated in [\d.]+ ms/.test(studioLog(server.userDataDir)) ? true : undefined));
    await workbench.runCommand('eBPF: Verify with Kernel');
    const rows = await waitFor('a verifier problem naming the kernels that reject and accept', 10 * 60_000, async () => {
      const found = (await workbench.problems()).filter((p) => /rejected by 6\.1; accepted by \d+\.\d+/.test(p.label));
      return found.length > 0 ? found : undefined;
    }, 2_000);
    await workbench.screenshot('kernel-verdicts');
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0].severity, 'error');
    assert.match(rows[0].label, /unknown func bpf_get_attach_cookie#174/);
    assert.match(rows[0].label, /\b18\b/, `the problem is on line 18: ${rows[0].label}`);
    const qemu = processesMentioning(kernel61?.image ?? 'vmlinuz');
    assert.equal(qemu.length, 1, 'one VM for 6.1, kept running while the editor uses it');

    await workbench.revealProblem(/open its verifier log/);
    await waitFor('6.1\'s verifier log in an editor', 60_000, async () => ((await workbench.visibleEditorText()).includes('unknown func bpf_get_attach_cookie') ? true : undefined));
    await workbench.screenshot('kernel-6.1-log');

    await session.close();
    await waitFor('QEMU to exit with the editor', 30_000, () => (processesMentioning(kernel61?.image ?? 'vmlinuz').length === 0 ? true : undefined));
  });
});
