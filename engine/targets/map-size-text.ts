// A map size as a user types it, `ENTRIES`, `ENTRIES:VALUE_BYTES` or `:VALUE_BYTES`, checked into the agent's
// MapSize: what `run --map-size NAME=…` and the editor's attach-with-parameters flow both take. Pure.
import type { MapSize } from '../../protocol/agent-rpc';

export const MAP_SIZE_FORMS = 'ENTRIES, ENTRIES:VALUE_BYTES or :VALUE_BYTES (whole numbers from 1 to 4294967295)';

/** The size `text` gives, or undefined when it is none of the forms. */
export function parseMapSizeText(text: string): MapSize | undefined {
  const m = /^\s*(\d+)?(?::(\d+))?\s*$/.exec(text);
  const entries = m?.[1] !== undefined ? Number(m[1]) : undefined;
  const valueSize = m?.[2] !== undefined ? Number(m[2]) : undefined;
  const valid = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n >= 1 && n <= 0xffffffff);
  if (!m || (entries === undefined && valueSize === undefined) || !valid(entries) || !valid(valueSize)) return undefined;
  return { ...(entries !== undefined ? { maxEntries: entries } : {}), ...(valueSize !== undefined ? { valueSize } : {}) };
}
