// Exports a map snapshot as CSV (one column per table column) or JSON ([{key, value}], the same as
// `ebpf-studio maps dump`); pure functions over raw keys/values, shared by the webviews and the CLI.
import type { Btf } from '../btf/btf-types';
import { compileMapDecoder, type MapLayout, valueStride } from '../btf/value-decoder';
import type { TableColumn } from './table-columns';

/** One CSV field: quoted when needed; text that a spreadsheet would run as a formula is prefixed with '. */
export function csvField(text: string): string {
  let t = text;
  if (/^[=+@\t\r]/.test(t) || (/^-/.test(t) && Number.isNaN(Number(t)))) t = `'${t}`;
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** CSV of the given rows (entry indexes, in display order) with a header of column labels. */
export function snapshotCsv(columns: TableColumn[], layout: MapLayout, keys: Uint8Array, values: Uint8Array, rows: ArrayLike<number>): string {
  const kdv = new DataView(keys.buffer, keys.byteOffset, keys.byteLength);
  const vdv = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const stride = valueStride(layout);
  const lines = [columns.map((c) => csvField(c.label)).join(',')];
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    lines.push(columns.map((c) => csvField(c.side === 'key' ? c.text(kdv, i * layout.keySize) : c.text(vdv, i * stride))).join(','));
  }
  return lines.join('\n') + '\n';
}

/** JSON of the given rows as [{"key": …, "value": …}], decoded through BTF like `maps dump`. */
export function snapshotJson(layout: MapLayout, btf: Btf | undefined, keys: Uint8Array, values: Uint8Array, rows: ArrayLike<number>): string {
  const decoder = compileMapDecoder(layout, btf);
  const kdv = new DataView(keys.buffer, keys.byteOffset, keys.byteLength);
  const vdv = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const parts: string[] = [];
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r];
    parts.push(JSON.stringify({ key: decoder.key(kdv, i * layout.keySize), value: decoder.value(vdv, i * decoder.valueStride) }));
  }
  return parts.length ? `[\n${parts.join(',\n')}\n]\n` : '[]\n';
}
