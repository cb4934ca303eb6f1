// Applies the live views' stylesheet through a constructed stylesheet (allowed by the strict CSP, which
// permits no inline style), so every view shares one theme-aware look.
import css from './live-view.css';

export function applyPageStyle(): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
