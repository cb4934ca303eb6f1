// Kernel tests of map reading: BTF-typed maps created and pinned here are read in chunks (batch and
// get_next_key paths), decoded through the kernel's BTF, dumped by `maps dump` in process and via the agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, unlinkSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { readMapRaw } from '../../agent/src/map-read';
import { forEachMapChunk, agentChunkSource, readMapSnapshot } from '../../engine/live-data/map-snapshot';
import { compileMapDecoder, decodeEntries } from '../../engine/btf/value-decoder';
import { parseBtf } from '../../engine/btf/btf-types';
import { dumpMap, runMapsCommand } from '../../cli/src/maps-command';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { changeFlows, createPinnedFlows, expectedFlow, missingPrerequisite, type PinnedFlows } from './pinned-btf-map';
import { MapMirror } from '../../engine/live-data/map-mirror';
import { buildTestAgent } from './build-test-agent';
import { skipUnless } from './kernel-prerequisites';

const ENTRIES = 3000;
const prefix = `/sys/fs/bpf/ebpf-studio-test-${process.pid}`;
const lpmPath = `${prefix}-lpm`;
let flows: PinnedFlows | undefined;
const missing = skipUnless(missingPrerequisite(), 'map-read kernel tests');

before(async () => {
  if (missing) return;
  flows = await createPinnedFlows(prefix, ENTRIES);
});
after(() => {
  flows?.remove();
  if (existsSync(lpmPath)) unlinkSync(lpmPath);
});

function collect() {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (b: Buffer) => parts.push(b));
  return { out, text: () => Buffer.concat(parts).toString('utf8') };
}

test('reads a BTF-typed hash map in batched chunks and decodes every entry', { skip: missing }, async () => {
  const chunks: number[] = [];
  const seen = new Set<number>();
  const result = await forEachMapChunk((p) => readMapRaw(p), { pinned: flows!.flowsPath }, (chunk, typing) => {
    chunks.push(chunk.count);
    assert.ok(typing.btf, 'the map BTF came from the kernel');
    const decoder = compileMapDecoder(typing.layout, typing.btf);
    for (const entry of decodeEntries(decoder, chunk.map.keySize, chunk.keys, chunk.values, chunk.count)) {
      const i = (entry.key as { saddr: number }).saddr - 0x0a000000;
      assert.deepEqual(entry, expectedFlow(i));
      seen.add(i);
    }
  }, { chunkEntries: 1000 });
  assert.equal(result.total, ENTRIES);
  assert.equal(seen.size, ENTRIES);
  assert.ok(chunks.length >= 3, `read in chunks: ${chunks.join(', ')}`);
  assert.equal(result.info.type, 'hash');
  assert.equal(result.info.name, 'flows');
});

test('per-CPU values decode as one value per possible CPU', { skip: missing }, async () => {
  const snap = await readMapSnapshot((p) => readMapRaw(p), { pinned: flows!.perCpuPath });
  assert.equal(snap.info.perCpu, true);
  const cpus = snap.layout.possibleCpus;
  const btf = (await forEachMapChunk((p) => readMapRaw(p), { pinned: flows!.perCpuPath }, () => undefined)).typing.btf;
  const entries = decodeEntries(compileMapDecoder(snap.layout, btf), 4, snap.keys, snap.values, snap.count);
  const byKey = new Map(entries.map((e) => [e.key as number, e.value]));
  for (let k = 0; k < 4; k++) assert.deepEqual(byKey.get(k), Array.from({ length: cpus }, (_, c) => (k + 1) * (c + 1)));
});

test('without batch lookups (kernels before 5.6) maps are read with get_next_key + lookup, in chunks too', { skip: missing }, async () => {
  execFileSync('bpftool', ['map', 'create', lpmPath, 'type', 'lpm_trie', 'key', '8', 'value', '4', 'entries', '16', 'name', 'lpm', 'flags', '1']);
  for (const [len, a, b, c, d] of [[24, 10, 0, 0, 0], [16, 192, 168, 0, 0]]) {
    execFileSync('bpftool', ['map', 'update', 'pinned', lpmPath, 'key', String(len), '0', '0', '0', String(a), String(b), String(c), String(d), 'value', String(len), '0', '0', '0']);
  }
  const r = readMapRaw({ pinned: lpmPath }, undefined, { method: 'iterate' });
  assert.equal(r.method, 'iterate');
  assert.equal(r.count, 2);
  const decoded = decodeEntries(compileMapDecoder({ keySize: 8, valueSize: 4, perCpu: false, possibleCpus: 1 }, undefined), 8, r.keys, r.values, r.count);
  const counts: number[] = [];
  await forEachMapChunk((p) => readMapRaw(p, undefined, { method: 'iterate' }), { pinned: lpmPath }, (c) => void counts.push(c.count), { chunkEntries: 1 });
  assert.deepEqual(counts, [1, 1, 0]);
  let flowCount = 0;
  await forEachMapChunk((p) => readMapRaw(p, undefined, { method: 'iterate' }), { pinned: flows!.flowsPath }, (c) => void (flowCount += c.count), { chunkEntries: 700 });
  assert.equal(flowCount, ENTRIES);
  assert.deepEqual(decoded.map((e) => e.value).sort(), ['10000000', '18000000']);
  assert.ok(decoded.some((e) => e.key === '180000000a000000'), 'keys without BTF are hex');
  unlinkSync(lpmPath);
});

test('maps dump prints [{key, value}] JSON in process, and the same through the agent', { skip: missing }, async () => {
  const a = collect();
  assert.equal(await runMapsCommand(['dump', '--pinned', flows!.flowsPath, '--format', 'json'], a.out, new PassThrough()), 0);
  const parsed = JSON.parse(a.text()) as { key: { saddr: number }; value: { comm: string } }[];
  assert.equal(parsed.length, ENTRIES);
  for (const e of parsed) assert.deepEqual(e, expectedFlow(e.key.saddr - 0x0a000000));
  assert.ok(parsed.some((e) => e.value.comm === '<b>html</b>'));

  const agent = await buildTestAgent();
  const client = await connectLocalAgent({ agentPath: agent.path });
  try {
    const b = collect();
    await dumpMap(agentChunkSource(client), { selector: { pinned: flows!.flowsPath }, target: 'local', format: 'json' }, b.out);
    assert.deepEqual(JSON.parse(b.text()), parsed);
    const text = collect();
    await dumpMap(agentChunkSource(client), { selector: { pinned: flows!.perCpuPath }, target: 'local', format: 'text' }, text.out);
    assert.match(text.text(), /^key: 0 {2}value: \[1,2(,\d+)*\]$/m);
    assert.match(text.text(), /"per_cpu_counts" \(percpu_hash\): 4 entries/);
  } finally {
    await client.close();
    agent.remove();
  }
});

test('a mirror polled with remember/since gets only what changed and matches a full read', { skip: missing }, async () => {
  const agent = await buildTestAgent();
  const client = await connectLocalAgent({ agentPath: agent.path });
  const sorted = (snap: { keys: Uint8Array; values: Uint8Array; count: number; valueStride: number }) =>
    Array.from({ length: snap.count }, (_, i) => Buffer.from(snap.keys.subarray(i * 16, (i + 1) * 16)).toString('hex') + Buffer.from(snap.values.subarray(i * snap.valueStride, (i + 1) * snap.valueStride)).toString('hex')).sort();
  try {
    const mirror = new MapMirror(client, { pinned: flows!.flowsPath });
    const first = await mirror.refresh();
    assert.equal(first.count, ENTRIES);
    assert.ok(first.rawBtf, 'BTF with the first read');
    await mirror.refresh();
    assert.equal(mirror.lastTransferred, 0, 'nothing changed, nothing sent');
    changeFlows(flows!.flowsPath, [5, 77, 1234], [], 1000);
    let snap = await mirror.refresh();
    assert.equal(mirror.lastTransferred, 3);
    assert.deepEqual(sorted(snap), sorted(await readMapSnapshot(agentChunkSource(client), { pinned: flows!.flowsPath })));
    changeFlows(flows!.flowsPath, [ENTRIES + 1, ENTRIES + 2, 9], [10, 11, 2999]);
    snap = await mirror.refresh();
    assert.equal(snap.count, ENTRIES - 1);
    assert.deepEqual(sorted(snap), sorted(await readMapSnapshot(agentChunkSource(client), { pinned: flows!.flowsPath })));
    const decoded = decodeEntries(compileMapDecoder(snap.layout, parseBtf(snap.rawBtf as Uint8Array)), 16, snap.keys, snap.values, snap.count);
    assert.ok(decoded.some((e) => (e.key as { saddr: number }).saddr === 0x0a000000 + ENTRIES + 2), 'the new entry is there');
    assert.ok(!decoded.some((e) => (e.key as { saddr: number }).saddr === 0x0a000000 + 10), 'the deleted entry is gone');
  } finally {
    await client.close();
    agent.remove();
  }
});

test('a map that is gone, a bad path and bad arguments get clear errors', { skip: missing }, async () => {
  const info = readMapRaw({ pinned: flows!.perCpuPath, maxEntries: 1 }).map;
  unlinkSync(flows!.perCpuPath);
  const deadline = Date.now() + 10_000;
  let message = '';
  while (Date.now() < deadline) {
    try {
      readMapRaw({ id: info.id });
    } catch (e) {
      message = (e as Error).message;
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  assert.match(message, /^Map gone: map id \d+ no longer exists/);
  const err = collect();
  const stdout = collect();
  assert.equal(await runMapsCommand(['dump', '--pinned', flows!.perCpuPath], stdout.out, err.out), 2);
  assert.match(err.text(), /No pinned object at/);
  assert.equal(stdout.text(), '', 'no "[" before the error: stdout is valid JSON or nothing');
  const usage = collect();
  assert.equal(await runMapsCommand(['dump', '--id', 'x'], new PassThrough(), usage.out), 2);
  assert.match(usage.text(), /--id needs a map id from 1 to 4294967295/);
  assert.equal(await runMapsCommand(['dump'], new PassThrough(), new PassThrough()), 2);
  assert.throws(() => readMapRaw({ pinned: flows!.flowsPath, cursor: 'b:AAAA' }), /cursor does not belong/);
});
