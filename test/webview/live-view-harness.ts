// Opens a built live-view bundle in headless Chromium (playwright-core) inside the same HTML and CSP the
// extension serves, with a stand-in for VS Code's webview API: messages in, messages out, screenshots.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createNonce, liveViewHtml } from '../../client/src/features/live-view-html';
import type { LiveViewKind } from '../../protocol/webview-messages';

const ROOT = join(__dirname, '../..');
const ORIGIN = 'https://webview.test';
export const SCREENSHOT_DIR = join(ROOT, 'test-output/webview');
const CHROMIUM = '/usr/bin/chromium';

/** Why these tests cannot run, or undefined. */
export function missingPrerequisite(): string | undefined {
  if (!existsSync(CHROMIUM)) return `needs Chromium at ${CHROMIUM}`;
  if (!existsSync(join(ROOT, 'dist/webviews/map.js'))) return 'needs the built webviews (npm run build)';
  return undefined;
}

/** Launches Chromium with HOME and XDG folders in a temp dir (removed when it closes), so no profile is left in ~. */
export async function launchBrowser(): Promise<Browser> {
  const home = mkdtempSync(join(tmpdir(), 'ebpf-studio-chromium-'));
  const removeHome = () => rmSync(home, { recursive: true, force: true });
  try {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') },
    });
    browser.on('disconnected', removeHome);
    return browser;
  } catch (error) {
    removeHome();
    throw error;
  }
}

const DARK_THEME: Record<string, string> = {
  '--vscode-font-family': 'system-ui, sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': 'monospace',
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-editor-background': '#1e1e1e',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#89d185',
  '--vscode-panel-border': '#444444',
  '--vscode-list-hoverBackground': '#2a2d2e',
  '--vscode-editor-findMatchHighlightBackground': '#623315',
  '--vscode-editorError-foreground': '#f14c4c',
  '--vscode-editorWarning-foreground': '#cca700',
  '--vscode-button-background': '#0e639c',
  '--vscode-button-foreground': '#ffffff',
};

export interface LiveViewPage {
  page: Page;
  /** Messages the view posted to the extension, in order. */
  sent(): Promise<{ type: string; [k: string]: unknown }[]>;
  /** Delivers a message as the extension would; Uint8Array fields are carried over as bytes. */
  post(message: object): Promise<void>;
  screenshot(name: string): Promise<string>;
  /** Waits until the element's text contains `text`. */
  waitForText(selector: string, text: string): Promise<void>;
  /** Console errors and CSP violations seen so far. */
  errors: string[];
}

/**
 * VS Code's webview API as the page sees it (acquireVsCodeApi), recording what the view posts, and a
 * deliverer that revives byte fields. Plain source text: the test runner's transpiler must not touch it.
 */
const STAND_IN_API = `
window.__sent = [];
window.acquireVsCodeApi = function () {
  return {
    postMessage: function (m) { window.__sent.push(m); },
    setState: function (s) { window.__state = s; },
    getState: function () { return window.__state; },
  };
};
function __unpack(v) {
  if (Array.isArray(v)) return v.map(__unpack);
  if (v && typeof v === 'object') {
    if (typeof v.__bytes === 'string') return Uint8Array.from(atob(v.__bytes), function (c) { return c.charCodeAt(0); });
    var o = {};
    for (var k in v) o[k] = __unpack(v[k]);
    return o;
  }
  return v;
}
window.__deliver = function (m) { window.dispatchEvent(new MessageEvent('message', { data: __unpack(m) })); };
`;

/** Encodes Uint8Array fields for the trip into the page (evaluate arguments are JSON). */
function pack(value: unknown): unknown {
  if (value instanceof Uint8Array) return { __bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (Array.isArray(value)) return value.map(pack);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pack(v)]));
  return value;
}

export async function openLiveView(browser: Browser, view: LiveViewKind, size = { width: 1100, height: 800 }): Promise<LiveViewPage> {
  const page = await browser.newPage({ viewport: size });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const nonce = createNonce();
  await page.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/index.html') {
      await route.fulfill({
        contentType: 'text/html',
        body: liveViewHtml({ view, cspSource: ORIGIN, nonce, scriptUri: `${ORIGIN}/dist/webviews/${view}.js`, codiconsUri: `${ORIGIN}/dist/webviews/codicon.css`, title: `${view} view` }),
      });
      return;
    }
    // Like localResourceRoots: only dist/webviews is readable.
    const file = join(ROOT, normalize(path));
    if (!file.startsWith(join(ROOT, 'dist/webviews')) || !existsSync(file)) {
      await route.fulfill({ status: 404, body: 'not found' });
      return;
    }
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : file.endsWith('.ttf') ? 'font/ttf' : 'application/octet-stream';
    await route.fulfill({ contentType: type, body: readFileSync(file) });
  });
  await page.addInitScript({ content: STAND_IN_API });
  await page.goto(`${ORIGIN}/index.html`);
  await page.evaluate(`(() => { const t = ${JSON.stringify(DARK_THEME)}; for (const k in t) document.documentElement.style.setProperty(k, t[k]); })()`);
  // Predicates are functions (run through the debugger protocol): a string predicate would be eval'd in the page,
  // which its CSP (rightly) refuses.
  await page.waitForFunction(() => (globalThis as unknown as { __sent: { type: string }[] }).__sent.some((m) => m.type === 'ready'));
  return {
    page,
    errors,
    sent: () => page.evaluate('window.__sent') as Promise<{ type: string; [k: string]: unknown }[]>,
    post: (message) => page.evaluate((m) => (globalThis as unknown as { __deliver(x: unknown): void }).__deliver(m), pack(message)),
    async waitForText(selector, text) {
      await page.waitForFunction(([sel, want]) => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
        return (doc.querySelector(sel)?.textContent ?? '').includes(want);
      }, [selector, text] as const);
    },
    async screenshot(name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
  };
}
