// Kernel tests of maps at the shapes real probes give them (a hash with room to spare, a per-CPU hash, an LRU
// hash, an array): `maps dump` prints what bpftool prints for each, live; the agent says what each read cost it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { runMapsCommand } from '../../cli/src/maps-command';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { MapMirror } from '../../engine/live-data/map-mirror';
import { RefreshPacing } from '../../engine/live-data/refresh-pacing';
import { libbpf } from '../../agent/src/ffi/libbpf';
import { missingPrerequisite } from './pinned-btf-map';
import { createPinnedShapes, SHAPE_NAMES, type PinnedShapes } from './pinned-map-shapes';
import { buildTestAgent } from './build-test-agent';
import { skipUnless } from './kernel-prerequisites';

const MAX_ENTRIES = 8192;
const FLOWS = 3000;
let shapes: PinnedShapes | undefined;
const missing = skipUnless(missingPrerequisite(), 'map-shapes kernel tests');

before(async () => {
  if (missing) return;
  shapes = await createPinnedShapes(`/sys/fs/bpf/ebpf-studio-test-${process.pid}`, { maxEntries: MAX_ENTRIES, flowEntries: FLOWS });
});
after(() => shapes?.remove());

interface Entry { key: unknown; value: unknown }

/** bpftool's "formatted" entries in our form (per-CPU: the values in CPU order), keyed by the key's JSON. */
function bpftoolEntries(path: string): Map<string, string> {
  const out = JSON.parse(execFileSync('bpftool', ['-j', 'map', 'dump', 'pinned', path], { maxBuffer: 1 << 28 }).toString()) as
    { formatted: { key: unknown; value?: unknown; values?: { cpu: number; value: unknown }[] } }[];
  return new Map(out.map(({ formatted: f }) => [JSON.stringify(f.key), JSON.stringify(f.values ? f.values.map((v) => v.value) : f.value)]));
}

for (const shape of SHAPE_NAMES) {
  test(`maps dump of the ${shape} map prints every entry as bpftool formats it`, { skip: missing }, async () => {
    const path = shapes!.paths[shape];
    const out = new PassThrough();
    const parts: Buffer[] = [];
    out.on('data', (b: Buffer) => parts.push(b));
    assert.equal(await runMapsCommand(['dump', '--pinned', path], out, new PassThrough()), 0);
    const ours = JSON.parse(Buffer.concat(parts).toString('utf8')) as Entry[];
    assert.equal(ours.length, shape === 'counters_array' ? MAX_ENTRIES : FLOWS);
    const theirs = bpftoolEntries(path);
    assert.equal(theirs.size, ours.length);
    for (const e of ours) assert.equal(JSON.stringify(e.value), theirs.get(JSON.stringify(e.key)), `entry ${JSON.stringify(e.key)}`);
    if (shape === 'flows_percpu') assert.equal((ours[0].value as unknown[]).length, libbpf().possibleCpus(), 'one value per possible CPU');
  });
}

test('the agent says what each read cost it, and a view paced by it says how often it refreshes', { skip: missing }, async () => {
  const agent = await buildTestAgent();
  const client = await connectLocalAgent({ agentPath: agent.path });
  try {
    const mirror = new MapMirror(client, { pinned: shapes!.paths.flows_hash });
    const pacing = new RefreshPacing();
    for (let read = 0; read < 3; read++) {
      const snap = await mirror.refresh();
      assert.equal(snap.count, FLOWS);
      assert.ok(Number.isFinite(mirror.lastAgentCpuMs) && mirror.lastAgentCpuMs >= 0, `agentCpuMs ${mirror.lastAgentCpuMs}`);
      pacing.record(mirror.lastAgentCpuMs);
    }
    const interval = pacing.intervalMs(1000);
    assert.match(pacing.note(1000, FLOWS), new RegExp(`^refreshing every ${interval / 1000} s: 3,000 entries`));
    const raw = await client.request('readMap', { pinned: shapes!.paths.counters_array, maxEntries: MAX_ENTRIES });
    assert.equal(raw.count, MAX_ENTRIES);
    assert.equal(typeof raw.agentCpuMs, 'number');
  } finally {
    await client.close();
    agent.remove();
  }
});
