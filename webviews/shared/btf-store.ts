// Keeps the BTF the extension sent, parsed once per BTF id (maps) or per stream (events), so later
// snapshots without BTF still decode. Used by the map, histogram and events views.
import { parseBtf, type Btf } from '../../engine/btf/btf-types';

export class BtfStore {
  private readonly byId = new Map<number, Btf>();
  private readonly errors = new Map<number, string>();

  /** Parses `raw` for this id when given; returns the BTF known for the id, if any. */
  take(id: number, raw: Uint8Array | undefined): Btf | undefined {
    if (raw && !this.byId.has(id)) {
      try {
        this.byId.set(id, parseBtf(raw));
        this.errors.delete(id);
      } catch (e) {
        this.errors.set(id, (e as Error).message);
      }
    }
    return this.byId.get(id);
  }

  /** Why the BTF of an id could not be used, for the status line. */
  error(id: number): string | undefined {
    return this.errors.get(id);
  }
}
