// The HTML shell of a live-view webview: strict CSP with a per-load nonce (crypto.randomBytes), the view's
// bundle and the codicons stylesheet, and no data at all (data arrives as messages after `ready`).
import { randomBytes } from 'node:crypto';
import type { LiveViewKind } from '../../../protocol/webview-messages';

export interface LiveViewHtmlOptions {
  view: LiveViewKind;
  /** webview.cspSource */
  cspSource: string;
  nonce: string;
  /** webview.asWebviewUri of dist/webviews/<view>.js and of codicon.css */
  scriptUri: string;
  codiconsUri: string;
  title: string;
}

/** A fresh nonce for each page load: 16 random bytes, base64. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function liveViewHtml(o: LiveViewHtmlOptions): string {
  const nonce = escapeAttribute(o.nonce);
  const csp = [
    "default-src 'none'",
    `img-src ${o.cspSource} data:`,
    `font-src ${o.cspSource}`,
    `style-src ${o.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeAttribute(o.title)}</title>
<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${escapeAttribute(o.codiconsUri)}" nonce="${nonce}">
</head>
<body data-view="${escapeAttribute(o.view)}">
<script nonce="${nonce}" src="${escapeAttribute(o.scriptUri)}"></script>
</body>
</html>
`;
}
