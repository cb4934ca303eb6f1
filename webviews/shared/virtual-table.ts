// A virtualised table: only the rows in view exist in the DOM (a pool reused on scroll), so a million rows
// scroll smoothly; cells come from a provider, set with textContent. Used by the map and events views.
import { el, setText } from './dom-builder';

export interface TableHeader {
  label: string;
  numeric: boolean;
  /** CSS grid track, e.g. "minmax(80px, 1fr)". */
  width?: string;
  className?: string;
}

export interface CellProvider {
  /** Text of a cell of display row `row` (0 = first shown row). */
  text(row: number, column: number): string;
  /** Whether the cell changed since the last update (highlighted). */
  changed?(row: number, column: number): boolean;
}

export class VirtualTable {
  readonly root: HTMLElement;
  private readonly header: HTMLElement;
  private readonly body: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly window: HTMLElement;
  private headers: TableHeader[] = [];
  private rows: HTMLElement[] = [];
  private rowCount = 0;
  private provider: CellProvider = { text: () => '' };
  private sort: { column: number; descending: boolean } | undefined;
  private selectedRow = -1;
  private widthsFitted = false;
  /** Viewport height and scroll offset, kept from ResizeObserver and scroll events so a render never forces layout. */
  private viewportHeight = 400;
  private scrollTop = 0;

  constructor(private readonly rowHeight: number, private readonly handlers: { onSort?(column: number): void; onSelect?(row: number): void } = {}) {
    this.header = el('div', 'vt-header', [], { role: 'row' });
    this.spacer = el('div', 'vt-spacer');
    this.window = el('div', 'vt-window', [], { role: 'rowgroup' });
    this.body = el('div', 'vt-body', [this.spacer, this.window]);
    this.root = el('div', 'vt', [this.header, this.body], { role: 'table' });
    this.root.style.setProperty('--vt-row-height', `${rowHeight}px`);
    this.body.addEventListener('scroll', () => {
      this.header.scrollLeft = this.body.scrollLeft;
      this.scrollTop = this.body.scrollTop;
      this.render();
    }, { passive: true });
    // Keep header and rows aligned whichever one gets scrolled sideways (the header by focus or find).
    this.header.addEventListener('scroll', () => {
      if (this.body.scrollLeft !== this.header.scrollLeft) this.body.scrollLeft = this.header.scrollLeft;
    }, { passive: true });
    this.window.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest('.vt-row') as HTMLElement | null;
      if (!row) return;
      this.selectedRow = Number(row.dataset.row);
      this.handlers.onSelect?.(this.selectedRow);
      this.render();
    });
    new ResizeObserver((entries) => {
      this.viewportHeight = entries[0]?.contentRect.height || this.viewportHeight;
      this.render();
    }).observe(this.body);
  }

  setHeaders(headers: TableHeader[]): void {
    this.headers = headers;
    this.root.style.setProperty('--vt-columns', headers.map((h) => h.width ?? (h.numeric ? 'minmax(70px, max-content)' : 'minmax(90px, 1fr)')).join(' '));
    this.header.replaceChildren(...headers.map((h, i) => {
      const cell = el('div', `vt-cell${h.numeric ? ' num' : ''}`, [h.label], { role: 'columnheader', title: h.label });
      cell.addEventListener('click', () => this.handlers.onSort?.(i));
      return cell;
    }));
    for (const row of this.rows) row.remove();
    this.rows = [];
    this.widthsFitted = headers.every((h) => h.width !== undefined);
    this.showSort();
  }

  /** Sizes columns (in ch) to their header and the first rows' text, so every row lines up. */
  private fitWidths(rowCount: number): void {
    const sample = Math.min(rowCount, 200);
    const tracks = this.headers.map((h, c) => {
      if (h.width) return h.width;
      let longest = h.label.length + 2;
      for (let r = 0; r < sample; r++) longest = Math.max(longest, this.provider.text(r, c).length + 1);
      const ch = Math.min(Math.max(longest, 6), 48) + 2;
      return c === this.headers.length - 1 ? `minmax(${ch}ch, 1fr)` : `${ch}ch`;
    });
    this.root.style.setProperty('--vt-columns', tracks.join(' '));
    this.widthsFitted = rowCount > 0;
  }

  setSort(sort: { column: number; descending: boolean } | undefined): void {
    this.sort = sort;
    this.showSort();
  }

  private showSort(): void {
    this.header.querySelectorAll('.vt-cell').forEach((cell, i) => {
      if (this.sort && this.sort.column === i) cell.setAttribute('aria-sort', this.sort.descending ? 'descending' : 'ascending');
      else cell.removeAttribute('aria-sort');
    });
  }

  /** New data: row count and cells; re-renders the rows in view. */
  update(rowCount: number, provider: CellProvider): void {
    this.rowCount = rowCount;
    this.provider = provider;
    const spacerHeight = `${rowCount * this.rowHeight}px`;
    if (this.spacer.style.height !== spacerHeight) this.spacer.style.height = spacerHeight;
    if (!this.widthsFitted) this.fitWidths(rowCount);
    this.render();
  }

  clearSelection(): void {
    this.selectedRow = -1;
  }

  render(): void {
    const height = this.viewportHeight;
    const first = Math.min(Math.floor(this.scrollTop / this.rowHeight), Math.max(0, this.rowCount - 1));
    const visible = Math.min(Math.ceil(height / this.rowHeight) + 1, Math.max(0, this.rowCount - first));
    while (this.rows.length < visible) {
      const row = el('div', 'vt-row', this.headers.map((h) => el('div', `vt-cell${h.numeric ? ' num' : ''}${h.className ? ` ${h.className}` : ''}`)), { role: 'row' });
      this.rows.push(row);
      this.window.append(row);
    }
    for (let r = 0; r < this.rows.length; r++) {
      const row = this.rows[r];
      if (r >= visible) {
        if (!row.hidden) row.hidden = true;
        continue;
      }
      if (row.hidden) row.hidden = false;
      const index = first + r;
      const rowText = String(index);
      if (row.dataset.row !== rowText) row.dataset.row = rowText;
      if (row.classList.contains('selected') !== (index === this.selectedRow)) row.classList.toggle('selected', index === this.selectedRow);
      const cells = row.children;
      for (let c = 0; c < this.headers.length; c++) {
        const cell = cells[c] as HTMLElement;
        setText(cell, this.provider.text(index, c));
        const changed = this.provider.changed?.(index, c) ?? false;
        if (cell.classList.contains('changed') !== changed) cell.classList.toggle('changed', changed);
      }
    }
    const transform = `translateY(${first * this.rowHeight}px)`;
    if (this.window.style.transform !== transform) this.window.style.transform = transform;
  }
}
