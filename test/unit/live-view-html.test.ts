// Tests the live-view webview shell: a strict CSP with a fresh nonce per load, the script only by nonce,
// no inline script or style, and the title escaped (no data is ever put into the HTML).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNonce, liveViewHtml } from '../../client/src/features/live-view-html';

test('the shell has a strict CSP with a nonce and no inline script', () => {
  const nonce = createNonce();
  assert.match(nonce, /^[A-Za-z0-9+/]{22}==$/, '16 random bytes, base64');
  assert.notEqual(createNonce(), nonce);
  const html = liveViewHtml({ view: 'map', cspSource: 'https://cdn.test', nonce, scriptUri: 'https://cdn.test/map.js', codiconsUri: 'https://cdn.test/codicon.css', title: '</title><script>alert(1)</script>' });
  const csp = (/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '').replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)));
  assert.ok(csp.includes("default-src 'none'"));
  assert.ok(csp.includes(`script-src 'nonce-${nonce}'`));
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0][1], new RegExp(`nonce="${nonce.replace(/[+/]/g, '\\$&')}" src="https://cdn.test/map.js"`));
  assert.equal(scripts[0][2], '', 'no inline script');
  assert.ok(!html.includes('<script>alert(1)'), 'the title is escaped');
  assert.ok(!/<style/.test(html) && !/ style=/.test(html), 'no inline style');
});
