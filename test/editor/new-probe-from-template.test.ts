// "eBPF: New Probe from Template" in a real VS Code (code-server + headless Chromium): the quick pick lists every
// bundled template, a bad parameter is refused as typed, and the probe is created with the values and opened.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listTemplates } from '../../engine/templates/template-catalog';
import { PROJECT_ROOT } from '../packaging/package-vsix';
import type { CodeServer } from './harness/code-server';
import { EditorSession } from './harness/editor-session';
import { waitFor } from './harness/wait-for';
import type { Workbench } from './harness/workbench';

const OUTPUT_DIR = join(PROJECT_ROOT, 'test-output', 'editor-new-probe');
const WORKSPACE_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'editor-workspace');

const missing = [
  ...(existsSync(join(PROJECT_ROOT, 'dist', 'client.js')) ? [] : ['dist/ is not built (run `npm run build`)']),
  ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium']),
];
const skip = missing.length > 0 && process.env.CI !== 'true' ? `prerequisite missing: ${missing.join(', ')}` : false;

const session = new EditorSession();
let server: CodeServer | undefined;
let workbench: Workbench;

async function typeIntoInput(text: string): Promise<void> {
  const input = workbench.page.locator('.quick-input-widget input.input');
  await input.waitFor({ timeout: 15_000 });
  await input.fill(text);
}

async function inputTitle(): Promise<string> {
  return (await workbench.page.locator('.quick-input-widget .quick-input-title').innerText({ timeout: 15_000 })).trim();
}

async function waitForInputTitle(pattern: RegExp): Promise<void> {
  await waitFor(`an input titled ${pattern}`, 15_000, async () => (pattern.test(await inputTitle().catch(() => '')) ? true : undefined));
}

describe('New Probe from Template in a real VS Code', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    if (skip) return;
    if (missing.length > 0) throw new Error(`prerequisite missing: ${missing.join(', ')}`);
    ({ server, workbench } = await session.open({ outputDir: OUTPUT_DIR, tempPrefix: 'ebpf-studio-new-probe-', workspaceSource: WORKSPACE_FIXTURE }));
  });

  after(() => session.close());

  test('creates a syscall-latency probe with the chosen parameters and opens it', { skip }, async () => {
    try {
      await createProbeThroughTheUi(server as CodeServer);
    } catch (error) {
      await workbench.screenshot('FAILED').catch(() => undefined);
      throw error;
    }
  });

  test('offers this machine’s interfaces for an XDP probe on the local target', { skip }, async () => {
    try {
      await createXdpProbeThroughTheUi(server as CodeServer);
    } catch (error) {
      await workbench.screenshot('xdp-FAILED').catch(() => undefined);
      throw error;
    }
  });
});

async function createXdpProbeThroughTheUi(active: CodeServer): Promise<void> {
  await runCommandOnceRegistered('eBPF: New Probe from Template');
  await workbench.pickQuickPickItem('XDP packet and byte counter per protocol');
  await waitForInputTitle(/: interface$/);
  const offered = await workbench.quickPickItems();
  for (const name of Object.keys(networkInterfaces())) assert.ok(offered.some((text) => text.trim() === name), `interface ${name} not offered: ${offered.join(' | ')}`);
  await workbench.screenshot('interface-pick');
  const loopback = workbench.page.locator('.quick-input-widget .monaco-list-row').filter({ has: workbench.page.locator('.label-name', { hasText: /^\s*lo\s*$/ }) });
  await loopback.first().click({ timeout: 15_000 });
  await waitForInputTitle(/: xdpMode$/);
  assert.equal(await workbench.page.locator('.quick-input-widget input.input').inputValue(), '', 'xdpMode is offered empty: native, falling back to generic');
  await workbench.page.keyboard.press('Enter');
  await waitForInputTitle(/folder for the probe/);
  assert.equal(await workbench.page.locator('.quick-input-widget input.input').inputValue(), 'xdp-protocol-counter', 'a free folder name is proposed');
  await workbench.page.keyboard.press('Enter');
  const manifestPath = join(active.workspaceDir, 'xdp-protocol-counter', 'template.json');
  await waitFor('the probe’s template.json', 15_000, () => (existsSync(manifestPath) ? true : undefined));
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  assert.equal(manifest.parameters[0].default, 'lo');
  await workbench.page.locator('.tabs-container .tab.active', { hasText: 'xdp-protocol-counter.bpf.c' }).waitFor({ timeout: 15_000 });
}

/** The palette lists extension commands once the extension host has registered them: retry until it does. */
async function runCommandOnceRegistered(label: string): Promise<void> {
  await waitFor(`"${label}" in the command palette`, 60_000, async () => {
    try {
      await workbench.runCommand(label);
      return true;
    } catch {
      return undefined;
    }
  });
}

async function createProbeThroughTheUi(active: CodeServer): Promise<void> {
  await runCommandOnceRegistered('eBPF: New Probe from Template');
  const items = await waitFor('the template quick pick', 30_000, async () => {
    const texts = await workbench.quickPickItems();
    return texts.length >= listTemplates().templates.length ? texts : undefined;
  });
  for (const template of listTemplates().templates) {
    assert.ok(items.some((text) => text.includes(template.manifest.title)), `"${template.manifest.title}" missing from the quick pick: ${items.join(' | ')}`);
  }
  await workbench.screenshot('template-quick-pick');
  await workbench.pickQuickPickItem('Syscall latency histogram');

  await waitForInputTitle(/syscall/);
  assert.equal(await workbench.page.locator('.quick-input-widget input.input').inputValue(), 'read', 'the default is offered');
  await typeIntoInput('openat');
  await workbench.page.keyboard.press('Enter');

  await waitForInputTitle(/: pid$/);
  await typeIntoInput('not-a-pid');
  const message = workbench.page.locator('.quick-input-widget .quick-input-message');
  await waitFor('the validation message', 10_000, async () => ((await message.innerText().catch(() => '')).includes('takes an integer') ? true : undefined));
  await workbench.screenshot('parameter-refused');
  await workbench.page.keyboard.press('Enter');
  assert.match(await inputTitle(), /: pid$/, 'an invalid value is not accepted');
  await typeIntoInput('0');
  await workbench.page.keyboard.press('Enter');

  await waitForInputTitle(/perProcess/);
  await workbench.pickQuickPickItem(/^\s*true/);
  await waitForInputTitle(/unit/);
  await workbench.pickQuickPickItem(/^\s*ms/);
  await waitForInputTitle(/folder for the probe/);
  await typeIntoInput('probes/openat-latency');
  await workbench.page.keyboard.press('Enter');

  const sourcePath = join(active.workspaceDir, 'probes', 'openat-latency', 'syscall-latency.bpf.c');
  await waitFor('the probe file', 15_000, () => (existsSync(sourcePath) ? true : undefined));
  await workbench.page.locator('.tabs-container .tab.active', { hasText: 'syscall-latency.bpf.c' }).waitFor({ timeout: 15_000 });
  await workbench.screenshot('probe-opened');
  const source = readFileSync(sourcePath, 'utf8');
  assert.match(source, /^const volatile long targ_syscall = \d+;/m);
  assert.match(source, /^const volatile bool per_process = true;/m);
  assert.match(source, /^const volatile __u64 unit_divisor = 1000000;/m);
  const manifest = JSON.parse(readFileSync(join(active.workspaceDir, 'probes', 'openat-latency', 'template.json'), 'utf8'));
  assert.deepEqual(
    manifest.parameters.map((p: { name: string; default: unknown }) => [p.name, p.default]),
    [
      ['syscall', 'openat'],
      ['pid', 0],
      ['perProcess', true],
      ['unit', 'ms'],
    ],
  );
}
