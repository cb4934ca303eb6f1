// "Attach with parameters…" in a real VS Code (code-server + Chromium) on this machine's kernel: the programs step
// offers the variant the agent left out, the globals step lists .rodata's globals with type, default and comment and
// refuses a bad value as typed, a map is sized, XDP goes on lo in generic mode; bpftool then shows exactly that.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeServer } from './harness/code-server';
import { EditorSession } from './harness/editor-session';
import { loadedMaps, loadedPrograms, mapsLeftBy, programsLeftBy } from './harness/system-state';
import { studioLog } from './harness/studio-log';
import { waitFor } from './harness/wait-for';
import type { Workbench } from './harness/workbench';
import { PROJECT_ROOT } from '../packaging/package-vsix';

const OUTPUT_DIR = join(PROJECT_ROOT, 'test-output', 'editor-attach-parameters');
const WORKSPACE_FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'editor-attach-workspace');
const PROBE = 'tunable-counter.bpf.c';
const PROGRAMS = ['count_btf', 'count_raw', 'pass_packets'];
const TGID = '4242';

const missing = [
  ...(existsSync(join(PROJECT_ROOT, 'dist', 'client.js')) ? [] : ['dist/ is not built (run `npm run build`)']),
  ...(existsSync('/usr/bin/chromium') ? [] : ['/usr/bin/chromium']),
  ...(process.getuid?.() === 0 ? [] : ['root (the local agent loads BPF programs)']),
  ...(existsSync('/sys/kernel/btf/vmlinux') ? [] : ['/sys/kernel/btf/vmlinux (tp_btf programs and vmlinux.h)']),
];
const skip = missing.length > 0 && process.env.CI !== 'true' ? `prerequisite missing: ${missing.join(', ')}` : false;

const session = new EditorSession();
let server: CodeServer;
let workbench: Workbench;
let programsBefore = new Set<number>();
let mapsBefore = new Set<number>();

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

/** The fixture's programs this session's code-server (its agent) holds or left, loaded since it started. */
const newPrograms = (names = PROGRAMS) => programsLeftBy(server.processGroup, programsBefore, names);
/** The maps this session's code-server (its agent) holds or left, created since it started. */
const newMaps = () => mapsLeftBy(server.processGroup, mapsBefore);

function bpftoolJson(args: string[]): unknown {
  return JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function quickInputTitle(): Promise<string> {
  return (await workbench.page.locator('.quick-input-widget .quick-input-title').innerText({ timeout: 1_000 }).catch(() => '')).trim();
}

async function waitForTitle(pattern: RegExp): Promise<void> {
  let seen = '';
  await waitFor(`a quick input titled ${pattern}`, 120_000, async () => {
    seen = await quickInputTitle();
    return pattern.test(seen) ? true : undefined;
  }).catch((error: Error) => assert.fail(`${error.message}; the title read "${seen}"`));
}

/** The open quick pick's rows as shown: label, description and detail, one space apart. */
async function rows(): Promise<string[]> {
  await workbench.quickPickItems();
  const texts = await workbench.page.locator('.quick-input-widget .monaco-list-row').evaluateAll((els) =>
    els.map((el) => [...el.querySelectorAll('*')].filter((e) => e.children.length === 0 && e.textContent?.trim()).map((e) => e.textContent?.trim()).join(' ')),
  );
  return texts.map((t) => t.replace(/\s+/g, ' ').trim());
}

/** "name:true|false" per row of the open multi-select quick pick (its checkbox state). */
async function checkedPrograms(): Promise<string[]> {
  return workbench.page.locator('.quick-input-widget .monaco-list-row').evaluateAll((els) =>
    els.map((el) => {
      const box = el.querySelector('input[type=checkbox]');
      const toggle = el.querySelector('[aria-checked]') ?? (el.hasAttribute('aria-checked') ? el : null);
      const state = box ? box.matches(':checked') : toggle ? toggle.getAttribute('aria-checked') === 'true' : `? ${el.outerHTML.slice(0, 600)}`;
      return `${el.querySelector('.label-name')?.textContent?.trim()}:${state}`;
    }),
  );
}

/** The row whose label is exactly `label`. */
function rowLabeled(label: string) {
  return workbench.page.locator('.quick-input-widget .monaco-list-row').filter({ has: workbench.page.locator('.label-name', { hasText: new RegExp(`^\\s*${label}\\s*$`) }) }).first();
}

function row(text: string | RegExp) {
  return workbench.page.locator('.quick-input-widget .monaco-list-row', { hasText: text }).first();
}

async function typeIntoInput(text: string): Promise<void> {
  const input = workbench.page.locator('.quick-input-widget input.input');
  await input.waitFor({ timeout: 15_000 });
  await input.fill(text);
}

async function validationMessage(): Promise<string> {
  return workbench.page.locator('.quick-input-widget .quick-input-message').innerText().catch(() => '');
}

/** Sets one global through its input box, back to the globals list. */
async function setGlobal(name: string, value: string): Promise<void> {
  await row(new RegExp(`^\\s*${name} = `)).click();
  await waitForTitle(new RegExp(`^${name} \\(`));
  await typeIntoInput(value);
  await workbench.page.keyboard.press('Enter');
  await waitForTitle(/with parameters: globals/);
  await waitFor(`${name} = ${value} in the list`, 15_000, async () => ((await rows()).some((r) => r.startsWith(`${name} = ${value}`)) ? true : undefined));
}

/** Opens a probe from the Explorer with its first program's SEC line in view, where the code lenses are. */
async function openProbe(file = PROBE): Promise<void> {
  await workbench.page.keyboard.press('Escape');
  await workbench.page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).first().dblclick();
  await workbench.page.locator('.tabs-container .tab.active', { hasText: file }).waitFor({ timeout: 15_000 });
  await workbench.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: 15_000 });
  const lines = readFileSync(join(WORKSPACE_FIXTURE, file), 'utf8').split('\n');
  await workbench.goToLine(lines.findIndex((l) => l.startsWith('SEC(')) + 1);
}

describe('Attach with parameters in a real VS Code', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    if (skip) return;
    ({ server, workbench } = await session.open({
      outputDir: OUTPUT_DIR,
      tempPrefix: 'ebpf-studio-attach-parameters-',
      workspaceSource: WORKSPACE_FIXTURE,
      beforeStart: () => {
        programsBefore = new Set(loadedPrograms().map((p) => p.id));
        mapsBefore = new Set(loadedMaps().map((m) => m.id));
      },
    }));
  });

  after(async () => {
    if (workbench && !blockedBy) await workbench.runCommand('eBPF: Detach All').catch(() => undefined);
    await session.close();
  });

  step('the lens asks what loads by default and offers the left-out variant unchecked; nothing stays loaded from asking', async () => {
    await openProbe();
    await waitFor('eBPF Studio to activate', 60_000, () => (/activated in [\d.]+ ms/.test(studioLog(server.userDataDir)) ? true : undefined));
    const lens = workbench.codeLens(/Attach with parameters…/);
    await lens.first().waitFor({ timeout: 60_000 });
    await lens.first().click();
    await waitForTitle(/with parameters: programs \(1\/3\)/);
    const offered = await rows();
    assert.ok(offered.some((r) => /^count_btf tp_btf\/sys_enter loaded by default/.test(r)), offered.join(' | '));
    assert.ok(offered.some((r) => /^count_raw raw_tp\/sys_enter not loaded by default: .*tp_btf/.test(r)), offered.join(' | '));
    assert.ok(offered.some((r) => /^pass_packets xdp loaded by default/.test(r)), offered.join(' | '));
    const checked = await checkedPrograms();
    assert.deepEqual(checked.sort(), ['count_btf:true', 'count_raw:false', 'pass_packets:true']);
    // the look at what loads by default was a load without attaching, unloaded at once
    assert.deepEqual(newPrograms(), [], 'the planning load left programs in the kernel');
    await workbench.screenshot('attach-parameters-programs');
  });

  step('the user picks the raw_tp variant instead', async () => {
    await row(/^\s*count_btf/).click();
    await row(/^\s*count_raw/).click();
    await workbench.page.keyboard.press('Enter');
    await waitForTitle(/with parameters: globals \(2\/3\)/);
  });

  step('the globals step lists each .rodata global with its type, default and the comment above it', async () => {
    const offered = await rows();
    const expected: [string, RegExp][] = [
      ['target_tgid', /^target_tgid = 0 __u32 · default Count only this process \(its tgid\); 0 counts every process\.$/],
      ['increment', /^increment = 1 __u64 · default What a call adds to the count\.$/],
      ['count_enabled', /^count_enabled = true bool · default false: the handlers return at once$/],
      ['mode', /^mode = COUNT_CALLS enum count_mode · default no comment above it in the source$/],
      ['label', /^label = calls char\[8\] · default A label kept in \.rodata for whoever reads the object\.$/],
    ];
    for (const [name, pattern] of expected) assert.ok(offered.some((r) => pattern.test(r)), `${name}: ${offered.join(' | ')}`);
    await workbench.screenshot('attach-parameters-globals');
  });

  step('a value that does not fit the global\'s type is refused as typed; good values are taken', async () => {
    await row(/^\s*target_tgid = /).click();
    await waitForTitle(/^target_tgid \(__u32\)/);
    await typeIntoInput('4294967296');
    await waitFor('the range message', 15_000, async () => (/unsigned 32-bit.*outside 0…4294967295/.test(await validationMessage()) ? true : undefined));
    await typeIntoInput('twelve');
    await waitFor('the whole-number message', 15_000, async () => (/whole number/.test(await validationMessage()) ? true : undefined));
    await workbench.screenshot('attach-parameters-refused');
    await workbench.page.keyboard.press('Enter');
    assert.match(await quickInputTitle(), /^target_tgid \(/, 'an invalid value was accepted');
    await typeIntoInput(TGID);
    await workbench.page.keyboard.press('Enter');
    await waitForTitle(/with parameters: globals/);
    await setGlobal('mode', 'COUNT_PROCESSES');
    await setGlobal('label', 'tuned');
    await row(/Attach with these values/).click();
  });

  step('the map the probe leaves unsized is sized; lo and generic XDP are chosen', async () => {
    await waitForTitle(/with parameters: map sizes \(3\/3\)/);
    const offered = await rows();
    assert.ok(offered.some((r) => /^per_tgid = default hash The probe leaves its size to user space; by default: max_entries 10240/.test(r)), offered.join(' | '));
    assert.ok(!offered.some((r) => r.startsWith('calls')), `a map with its own size is offered: ${offered.join(' | ')}`);
    await row(/^\s*per_tgid = /).click();
    await waitForTitle(/^per_tgid: size/);
    await typeIntoInput('0');
    await waitFor('the map size message', 15_000, async () => (/ENTRIES/.test(await validationMessage()) ? true : undefined));
    await typeIntoInput('4096');
    await workbench.page.keyboard.press('Enter');
    await waitFor('per_tgid = 4096', 15_000, async () => ((await rows()).some((r) => r.startsWith('per_tgid = 4096')) ? true : undefined));
    await row(/Continue with these sizes/).click();
    await waitForTitle(/with parameters: interface/);
    await rowLabeled('lo').click();
    await waitForTitle(/with parameters: XDP mode/);
    const modes = await rows();
    assert.deepEqual(modes.map((m) => m.split(' ')[0]), ['automatic', 'native', 'generic', 'offload']);
    await workbench.screenshot('attach-parameters-xdp-mode');
    await rowLabeled('generic').click();
  });

  step('bpftool shows what was chosen: the raw_tp variant, the globals in .rodata, the map size, generic XDP on lo', async () => {
    const loaded = await waitFor('the chosen programs to load', 120_000, () => {
      const found = newPrograms();
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(loaded.map((p) => p.name).sort(), ['count_raw', 'pass_packets']);
    await waitFor('the attached notification', 30_000, async () => ((await workbench.notifications()).some((n) => /tunable-counter\.bpf\.c attached on local/.test(n)) ? true : undefined));
    const maps = newMaps();
    const perTgid = maps.find((m) => m.name === 'per_tgid');
    assert.ok(perTgid, `per_tgid not loaded: ${maps.map((m) => m.name).join(', ')}`);
    assert.equal((bpftoolJson(['map', 'show', 'id', String(perTgid.id)]) as { max_entries: number }).max_entries, 4096);
    const rodata = maps.find((m) => m.name.endsWith('.rodata'));
    assert.ok(rodata, `no .rodata map: ${maps.map((m) => m.name).join(', ')}`);
    const dumped = JSON.stringify(bpftoolJson(['map', 'dump', 'id', String(rodata.id)]));
    for (const part of [`"target_tgid":${TGID}`, '"increment":1', '"count_enabled":true', '"mode":"COUNT_PROCESSES"', '"label":"tuned"']) {
      assert.ok(dumped.includes(part), `${part} not in .rodata: ${dumped}`);
    }
    const xdp = (bpftoolJson(['net', 'show', 'dev', 'lo']) as { xdp?: { mode: string; id: number }[] }[])[0]?.xdp ?? [];
    const pass = loaded.find((p) => p.name === 'pass_packets');
    assert.ok(xdp.some((x) => x.mode === 'generic' && x.id === pass?.id), `XDP on lo: ${JSON.stringify(xdp)}`);
  });

  step('the answers are remembered for the file: the flow opens with them', async () => {
    await openProbe();
    await workbench.runCommand('eBPF: Attach with Parameters…');
    await waitForTitle(/with parameters: programs/);
    const checked = await checkedPrograms();
    assert.deepEqual(checked.sort(), ['count_btf:false', 'count_raw:true', 'pass_packets:true']);
    await workbench.page.keyboard.press('Enter');
    await waitForTitle(/with parameters: globals/);
    const offered = await rows();
    assert.ok(offered.some((r) => r.startsWith(`target_tgid = ${TGID} __u32 · default 0`)), offered.join(' | '));
    assert.ok(offered.some((r) => r.startsWith('label = tuned')), offered.join(' | '));
    await workbench.page.keyboard.press('Escape');
  });

  step('Detach All leaves nothing of the probe loaded and lo without XDP', async () => {
    await workbench.runCommand('eBPF: Detach All');
    await waitFor('the probe to be unloaded', 30_000, () => (newPrograms().length === 0 ? true : undefined));
    const xdp = (bpftoolJson(['net', 'show', 'dev', 'lo']) as { xdp?: unknown[] }[])[0]?.xdp ?? [];
    assert.deepEqual(xdp, []);
  });

  step('▶ Attach probe on a probe with two variants of one handler loads one, says why, and reports success', async () => {
    await openProbe('two-variants.bpf.c');
    const lens = workbench.codeLens(/▶ Attach probe/);
    await lens.first().waitFor({ timeout: 60_000 });
    await lens.first().click();
    const variants = ['variant_btf', 'variant_raw'];
    const loaded = await waitFor('one variant to load', 120_000, () => {
      const found = newPrograms(variants);
      return found.length > 0 ? found : undefined;
    });
    const toasts = await waitFor('the attach notification', 30_000, async () => {
      // the progress notification ("Attaching two-variants.bpf.c to local…") comes first; wait for the outcome
      const shown = (await workbench.notifications()).filter((n) => /two-variants\.bpf\.c|attached on/.test(n) && !n.startsWith('Attaching '));
      return shown.length > 0 ? shown : undefined;
    });
    assert.ok(toasts.some((n) => /two-variants\.bpf\.c attached on local \(variant_btf\)\./.test(n)), `notification: ${toasts.join(' | ')}`);
    assert.ok(!toasts.some((n) => /of 1 target|undefined/.test(n)), `a left-out variant reported as a failure: ${toasts.join(' | ')}`);
    assert.deepEqual(loaded.map((p) => p.name), ['variant_btf'], 'both variants loaded: every event would count twice');
    // each program's line says what it does in the session: the chosen one attached, the other left out and why
    await workbench.codeLens(new RegExp(`attached on local, id ${loaded[0].id}`)).first().waitFor({ timeout: 30_000 });
    await workbench.codeLens(/not loaded on local: variant of variant_btf \(tp_btf\/sys_enter\)/).first().waitFor({ timeout: 30_000 });
    await workbench.screenshot('program-status-lenses');
    await workbench.runCommand('eBPF: Detach All');
    await waitFor('the variant to be unloaded', 30_000, () => (newPrograms(variants).length === 0 ? true : undefined));
    await workbench.codeLens(/attached on local|not loaded on local/).first().waitFor({ state: 'detached', timeout: 30_000 });
  });
});
