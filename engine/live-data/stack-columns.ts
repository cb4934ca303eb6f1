// Table columns for a stack-trace map (BPF_MAP_TYPE_STACK_TRACE): the stack id and its frames, named from what the
// target's agent said for each address (names may arrive after the rows; cells read them when shown). Pure.
import type { MapLayout } from '../btf/value-decoder';
import { stackFrames } from './stack-symbols';
import type { TableColumn } from './table-columns';

/** Frames in a cell, innermost first. */
const FRAME_SEPARATOR = ' ← ';

export function stackTraceColumns(layout: MapLayout, names: ReadonlyMap<string, string>): TableColumn[] {
  const size = layout.valueSize;
  const frames = (dv: DataView, offset: number) => stackFrames(new Uint8Array(dv.buffer, dv.byteOffset + offset, size), names);
  return [
    {
      label: 'stack id', side: 'key', numeric: true, plainInt: { offset: 0, size: 4, signed: false },
      num: (dv, offset) => dv.getUint32(offset, true), text: (dv, offset) => String(dv.getUint32(offset, true)),
    },
    { label: 'frames', side: 'value', numeric: false, num: () => NaN, text: (dv, offset) => frames(dv, offset).join(FRAME_SEPARATOR) },
  ];
}

/** Whether a map is shown as stacks: a stack-trace map with a u32 key. */
export const isStackTraceMap = (info: { type: string; keySize: number }) => info.type === 'stack_trace' && info.keySize === 4;
