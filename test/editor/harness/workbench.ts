// Drives the VS Code workbench served by code-server from headless Chromium (playwright-core):
// command palette, quick open, Problems panel, code lenses, code actions, webviews, screenshots.
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface ProblemRow {
  /** The row's accessible label: message, source/code, line and column as VS Code reads them out. */
  label: string;
  severity: 'error' | 'warning' | 'info';
}

export class Workbench {
  private shotIndex = 0;

  private constructor(
    private readonly browser: Browser,
    readonly page: Page,
    private readonly profileDir: string,
    private readonly screenshotDir: string,
  ) {}

  /** Launches Chromium (its profile in a temp dir, removed by close) and opens the workbench URL. */
  static async open(url: string, screenshotDir: string): Promise<Workbench> {
    mkdirSync(screenshotDir, { recursive: true });
    const profileDir = mkdtempSync(join(tmpdir(), 'ebpf-studio-chromium-'));
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      env: { ...process.env, HOME: profileDir, XDG_CONFIG_HOME: join(profileDir, '.config'), XDG_CACHE_HOME: join(profileDir, '.cache') },
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      const workbench = new Workbench(browser, page, profileDir, screenshotDir);
      await page.goto(url);
      await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
      await page.locator('.monaco-workbench .part.sidebar .explorer-folders-view, .monaco-workbench .explorer-viewlet').first().waitFor({ timeout: 60_000 });
      return workbench;
    } catch (error) {
      await browser.close();
      rmSync(profileDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Opens `url` (a CodeServer.extensionTestsUrl) in a second window and returns the console lines the
   * extension tests print there, up to the line `isLast` accepts; the window closes itself when they end.
   */
  async runExtensionTests(url: string, isLast: (line: string) => boolean, timeoutMs: number): Promise<string[]> {
    const page = await this.browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const lines: string[] = [];
    try {
      const finished = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the extension tests printed no final line within ${timeoutMs} ms; got:\n${lines.join('\n')}`)), timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        // The extension host's console reaches the page as e.g. "%c INFO color: #33f ok - …".
        page.on('console', (message) => {
          const line = message.text().replace(/^%c\s+\w+\s+color:\s*\S+\s+/, '');
          lines.push(line);
          if (isLast(line)) done();
        });
        page.on('close', () => {
          clearTimeout(timer);
          if (lines.some(isLast)) resolve();
          else reject(new Error(`the extension tests window closed before a final line; got:\n${lines.join('\n')}`));
        });
      });
      await page.goto(url);
      await finished;
      return lines;
    } finally {
      if (!page.isClosed()) await page.close();
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    rmSync(this.profileDir, { recursive: true, force: true });
  }

  /** Saves a numbered full-window screenshot, e.g. `03-quick-fix.png`; returns its path. */
  async screenshot(name: string): Promise<string> {
    this.shotIndex += 1;
    const path = join(this.screenshotDir, `${String(this.shotIndex).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  private get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Opens the command palette and runs the command whose label is exactly `label` ("Category: Title"). */
  async runCommand(label: string): Promise<void> {
    const exactLabel = this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) });
    const row = this.quickInput.locator('.monaco-list-row').filter({ has: exactLabel }).first();
    // on a loaded machine the palette can close (focus taken) between showing the row and the click, leaving the row
    // hidden: open it again, three times at most
    for (let attempt = 1; ; attempt++) {
      await this.openQuickInput('>' + label);
      try {
        await row.waitFor({ timeout: 15_000 });
        await row.click({ timeout: 10_000 });
        return;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  }

  /** Quick-opens a workspace file by name and waits for its editor tab to be active. */
  async openFile(fileName: string): Promise<void> {
    await this.openQuickInput(fileName);
    // the file search behind quick open is ripgrep, slow on a loaded machine: a generous guard, not a budget
    const row = this.quickInput.locator('.monaco-list-row', { hasText: fileName }).first();
    await row.waitFor({ timeout: 60_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.tabs-container .tab.active', { hasText: fileName }).waitFor({ timeout: 15_000 });
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: 15_000 });
  }

  /** The items currently offered by an open quick pick (e.g. a command's prompt). */
  async quickPickItems(): Promise<string[]> {
    await this.quickInput.waitFor({ timeout: 15_000 });
    return this.quickInput.locator('.monaco-list-row').allInnerTexts();
  }

  /** Picks the item of an open quick pick whose text contains `text`. */
  async pickQuickPickItem(text: string | RegExp): Promise<void> {
    const row = this.quickInput.locator('.monaco-list-row', { hasText: text }).first();
    await row.waitFor({ timeout: 15_000 });
    await row.click();
  }

  /** True while a quick pick or input box is showing. */
  async quickInputVisible(): Promise<boolean> {
    return this.quickInput.isVisible();
  }

  private async openQuickInput(text: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.quickInput.locator('input.input');
    await input.waitFor({ timeout: 15_000 });
    await input.fill(text);
  }

  /** Shows the Problems panel and returns its marker rows (file rows left out). */
  async problems(): Promise<ProblemRow[]> {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible())) await this.runCommand('Problems: Focus on Problems View');
    await panel.waitFor({ timeout: 15_000 });
    const rows = panel.locator('.monaco-list-row');
    const result: ProblemRow[] = [];
    for (const row of await rows.all()) {
      const icon = row.locator('.marker-icon');
      if ((await icon.count()) === 0) continue;
      const iconClass = (await icon.first().getAttribute('class')) ?? '';
      const severity = /error/.test(iconClass) ? 'error' : /warning/.test(iconClass) ? 'warning' : 'info';
      result.push({ label: (await row.getAttribute('aria-label')) ?? (await row.innerText()), severity });
    }
    return result;
  }

  /** Clicks the Problems row matching `text`, which puts the editor cursor on that problem. */
  async revealProblem(text: string | RegExp): Promise<void> {
    const row = this.page.locator('.markers-panel .monaco-list-row', { hasText: text }).first();
    await row.click();
    await row.dblclick();
  }

  /**
   * Opens the Quick Fix menu at the cursor and returns the offered actions' titles once one matches `wanted`
   * (the menu fills in as each code-action provider answers, and is opened again if it closed), or, after
   * 15 s, whatever it offers then, for the caller's assertion to report.
   */
  async quickFixTitles(wanted: RegExp): Promise<string[]> {
    const editor = this.page.locator('.editor-instance .monaco-editor textarea').first();
    const actions = this.page.locator('.action-widget .monaco-list-row.action[aria-label]');
    let titles: string[] = [];
    await waitFor(`a quick fix matching ${wanted}`, 15_000, async () => {
      if (!(await actions.first().isVisible())) {
        await editor.focus();
        await this.page.keyboard.press('Control+.');
        await actions.first().waitFor({ timeout: 5_000 });
      }
      titles = await this.quickFixMenuTitles();
      return titles.some((t) => wanted.test(t)) ? titles : undefined;
    }, 250).catch(() => undefined);
    return titles;
  }

  private async quickFixMenuTitles(): Promise<string[]> {
    return this.page.locator('.action-widget .monaco-list-row.action').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? ''));
  }

  /** Applies the open Quick Fix menu's action whose title matches `text`, choosing it with the keyboard. */
  async applyQuickFix(text: RegExp): Promise<void> {
    const rows = this.page.locator('.action-widget .monaco-list-row.action');
    const titles = await this.quickFixMenuTitles();
    const wanted = titles.findIndex((t) => text.test(t));
    if (wanted < 0) throw new Error(`no quick fix matches ${text}; offered: ${titles.join(', ')}`);
    for (let moves = 0; moves < titles.length; moves++) {
      const focused = await rows.evaluateAll((els) => els.findIndex((el) => el.classList.contains('focused')));
      if (focused === wanted) break;
      await this.page.keyboard.press(focused < wanted ? 'ArrowDown' : 'ArrowUp');
    }
    await this.page.keyboard.press('Enter');
    await this.page.locator('.action-widget').waitFor({ state: 'hidden', timeout: 15_000 });
  }

  /** Saves the active editor (File: Save). */
  async save(): Promise<void> {
    await this.runCommand('File: Save');
    await this.page.locator('.tabs-container .tab.active.dirty').waitFor({ state: 'detached', timeout: 15_000 });
  }

  /** The rendered lines of the active editor (only those in view), with Monaco's non-breaking spaces made plain. */
  async visibleEditorText(): Promise<string> {
    const lines = this.page.locator('.editor-instance .monaco-editor .view-lines .view-line');
    return (await lines.allInnerTexts()).join('\n').replace(/\u00a0/g, ' ');
  }

  /** Moves the active editor's cursor to a 1-based line (quick open's `:line`), scrolling it into view. */
  async goToLine(line: number): Promise<void> {
    await this.openQuickInput(`:${line}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.part.statusbar', { hasText: `Ln ${line},` }).waitFor({ timeout: 15_000 });
  }

  /** Moves the active editor's cursor to a 1-based line and column (quick open's `:line:column`). */
  async goToPosition(line: number, column: number): Promise<void> {
    await this.openQuickInput(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.part.statusbar', { hasText: `Ln ${line}, Col ${column}` }).waitFor({ timeout: 15_000 });
  }

  /** Opens the suggest widget at the cursor and returns its labels once one equals `wanted` (else, after 15 s, what it offers). */
  async suggestions(wanted: string): Promise<string[]> {
    const labels = this.page.locator('.suggest-widget .monaco-list-row .label-name');
    let offered: string[] = [];
    await waitFor(`a suggestion "${wanted}"`, 15_000, async () => {
      if (!(await labels.first().isVisible())) await this.page.keyboard.press('Control+Space');
      offered = (await labels.allInnerTexts()).map((l) => l.trim());
      return offered.includes(wanted) ? offered : undefined;
    }, 250).catch(() => undefined);
    return offered;
  }

  /** The title of the active editor tab. */
  async activeTabTitle(): Promise<string> {
    return (await this.page.locator('.tabs-container .tab.active .label-name').first().innerText()).trim();
  }

  /** The visible code lenses in the active editor whose text contains `text`. */
  codeLens(text: string | RegExp): Locator {
    return this.page.locator('.monaco-editor .codelens-decoration a', { hasText: text }).filter({ visible: true });
  }

  /** The inner document of the webview panel whose tab title contains `title`. */
  async webview(title: string | RegExp): Promise<FrameLocator> {
    await this.page.locator('.tabs-container .tab', { hasText: title }).first().click();
    const frame = this.page.locator('iframe.webview.ready').last();
    await frame.waitFor({ timeout: 30_000 });
    return this.page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
  }

  /**
   * The activation time VS Code itself measured for an extension (code loading + activate call +
   * resolving its promise), read from "Developer: Show Running Extensions"; milliseconds.
   */
  async hostMeasuredActivationMs(displayName: string): Promise<number> {
    await this.runCommand('Developer: Show Running Extensions');
    const row = this.page.locator('.runtime-extensions-editor .monaco-list-row', { hasText: displayName }).first();
    await row.waitFor({ timeout: 15_000 });
    const text = await row.locator('.activation-time').innerText({ timeout: 15_000 });
    const match = /([\d.]+)\s*ms/.exec(text);
    if (!match) throw new Error(`no activation time in "${text}"`);
    return Number(match[1]);
  }

  /** The status bar's text, item by item. */
  async statusBarItems(): Promise<string[]> {
    return this.page.locator('.part.statusbar .statusbar-item').allInnerTexts();
  }

  /** Text of visible notification toasts. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-toast').allInnerTexts();
  }
}
