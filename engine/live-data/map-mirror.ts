// A client-side copy of a map kept current by polling the agent with readMap `remember`/`since`: the first read
// brings everything, later ones only what changed (applied in place, new keys appended, gone keys dropped).
// Used by the live-view panels and the agent-cost benchmark. Talks to the agent through AgentClient.
import type { ReadMapResult } from '../../protocol/agent-rpc';
import type { AgentClient } from '../targets/agent-client';
import { parseBtf } from '../btf/btf-types';
import type { BtfCache, MapSelector, MapSnapshot } from './map-snapshot';
import { valueStride, type MapLayout } from '../btf/value-decoder';

function bytes(b64: string): Buffer {
  return Buffer.from(b64, 'base64');
}

export class MapMirror {
  private token: string | undefined;
  private keys: Buffer = Buffer.alloc(0);
  private values: Buffer = Buffer.alloc(0);
  private count = 0;
  /** Key bytes (latin1) → entry index; built on the first delta that needs it. */
  private index: Map<string, number> | undefined;
  /** Entries the last refresh brought (all of them, or the changed ones). */
  lastTransferred = 0;
  /** CPU the last refresh cost the agent, ms (0 from an agent that does not say). */
  lastAgentCpuMs = 0;

  constructor(
    private readonly client: AgentClient,
    private readonly selector: MapSelector,
    private readonly btfCache: BtfCache = new Map(),
  ) {}

  /** Reads what changed and returns the whole map as it is now (buffers are copies the caller may keep). */
  async refresh(options: { timeoutMs?: number } = {}): Promise<MapSnapshot> {
    const knownBtf = this.lastBtfId !== undefined && (this.lastBtfId === 0 || this.btfCache.has(this.lastBtfId));
    const r: ReadMapResult = await this.client.request('readMap', {
      ...this.selector, remember: true, ...(this.token ? { since: this.token } : {}), ...(knownBtf ? {} : { withBtf: true }),
    }, options.timeoutMs ? { timeoutMs: options.timeoutMs } : {});
    this.token = r.snapshot;
    this.lastBtfId = r.map.btfId;
    if (r.btf && r.map.btfId && !this.btfCache.has(r.map.btfId)) {
      const raw = new Uint8Array(bytes(r.btf));
      this.btfCache.set(r.map.btfId, { btf: parseBtf(raw), raw });
    }
    const layout: MapLayout = {
      keySize: r.map.keySize, valueSize: r.map.valueSize, keyTypeId: r.map.btfKeyTypeId, valueTypeId: r.map.btfValueTypeId,
      perCpu: r.map.perCpu, possibleCpus: r.possibleCpus,
    };
    const stride = valueStride(layout);
    this.lastTransferred = r.count;
    this.lastAgentCpuMs = r.agentCpuMs ?? 0;
    if (r.delta) this.apply(r, r.map.keySize, stride);
    else {
      this.keys = bytes(r.keys);
      this.values = bytes(r.values);
      this.count = r.count;
      this.index = undefined;
    }
    const raw = r.map.btfId ? this.btfCache.get(r.map.btfId)?.raw : undefined;
    return {
      info: r.map, layout, count: this.count, valueStride: stride,
      keys: new Uint8Array(this.keys.subarray(0, this.count * r.map.keySize)),
      values: new Uint8Array(this.values.subarray(0, this.count * stride)),
      ...(raw ? { rawBtf: raw } : {}),
    };
  }

  private lastBtfId: number | undefined;

  private keyAt(buf: Buffer, i: number, ks: number): string {
    return buf.toString('latin1', i * ks, (i + 1) * ks);
  }

  private apply(r: ReadMapResult, ks: number, stride: number): void {
    const delta = r.delta as NonNullable<ReadMapResult['delta']>;
    if (!this.index) {
      this.index = new Map();
      for (let i = 0; i < this.count; i++) this.index.set(this.keyAt(this.keys, i, ks), i);
    }
    const index = this.index;
    const changedKeys = bytes(r.keys);
    const changedValues = bytes(r.values);
    const appendedKeys: Buffer[] = [];
    const appendedValues: Buffer[] = [];
    for (let c = 0; c < r.count; c++) {
      const key = this.keyAt(changedKeys, c, ks);
      const at = index.get(key);
      if (at !== undefined) changedValues.copy(this.values, at * stride, c * stride, (c + 1) * stride);
      else {
        index.set(key, this.count + appendedKeys.length);
        appendedKeys.push(changedKeys.subarray(c * ks, (c + 1) * ks));
        appendedValues.push(changedValues.subarray(c * stride, (c + 1) * stride));
      }
    }
    if (appendedKeys.length) {
      this.keys = Buffer.concat([this.keys.subarray(0, this.count * ks), ...appendedKeys]);
      this.values = Buffer.concat([this.values.subarray(0, this.count * stride), ...appendedValues]);
      this.count += appendedKeys.length;
    }
    if (delta.removedCount > 0) {
      const removed = bytes(delta.removedKeys);
      const gone = new Uint8Array(this.count);
      for (let k = 0; k < delta.removedCount; k++) {
        const at = index.get(this.keyAt(removed, k, ks));
        if (at !== undefined) gone[at] = 1;
      }
      let w = 0;
      for (let i = 0; i < this.count; i++) {
        if (gone[i]) continue;
        if (w !== i) {
          this.keys.copy(this.keys, w * ks, i * ks, (i + 1) * ks);
          this.values.copy(this.values, w * stride, i * stride, (i + 1) * stride);
        }
        w++;
      }
      this.count = w;
      this.index = undefined;
    }
    if (this.count !== delta.total) {
      // Out of step (should not happen): start over with a full read next time.
      this.token = undefined;
    }
  }
}
