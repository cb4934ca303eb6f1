// Builds DOM elements with text set through textContent only (never innerHTML), so map keys, values and
// event fields that contain markup are shown as text. Used by every live view.

type Child = Node | string | null | undefined | false;

/** Creates an element with a class, attributes and children; strings become text nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, children: Child[] = [], attributes: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** Creates a custom element (the @vscode-elements components) with attributes and children. */
export function component(tag: string, attributes: Record<string, string> = {}, children: Child[] = []): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** Sets text only when it changed (cheap re-renders at 10 Hz). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
