// End to end on this kernel: loads the syscall latency probe through the agent (filtered to one process and
// write(2)), runs `dd` doing a known number of writes, reads the histogram maps through the agent and renders
// them in the histogram view in Chromium: the count on screen must equal the number of writes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { agentChunkSource, readMapSnapshot, type MapSnapshot } from '../../engine/live-data/map-snapshot';
import type { AgentClient } from '../../engine/targets/agent-client';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { launchBrowser, missingPrerequisite as missingForWebviews, openLiveView } from '../webview/live-view-harness';
import { skipUnless } from './kernel-prerequisites';
import { buildTestAgent, type TestAgentBundle } from './build-test-agent';

const ROOT = join(__dirname, '../..');
const WRITES = 5000;
const WRITE_NR: Record<string, number> = { x64: 1, arm64: 64 };
const CLANG = '/usr/bin/clang-19';

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (BPF syscall)';
  if (!existsSync(CLANG)) return 'needs clang-19';
  if (!(arch() in WRITE_NR)) return `no write(2) number known for ${arch()}`;
  return missingForWebviews();
}

const missing = skipUnless(missingPrerequisite(), 'the end-to-end histogram test');
let dir = '';
let client: AgentClient | undefined;
let browser: Browser | undefined;
let workload: ChildProcess | undefined;
let agent: TestAgentBundle | undefined;

after(async () => {
  if (workload && workload.exitCode === null && workload.signalCode === null) workload.kill();
  await client?.close();
  await browser?.close();
  agent?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function snapshotMessage(snap: MapSnapshot) {
  return {
    type: 'mapData', time: Date.now(), readMs: 1, info: snap.info, possibleCpus: snap.layout.possibleCpus, count: snap.count,
    keys: snap.keys, values: snap.values, ...(snap.rawBtf ? { btf: snap.rawBtf } : {}),
  };
}

test('the histogram view counts exactly the writes a workload made', { skip: missing, timeout: 120_000 }, async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-e2e-'));
  const object = join(dir, 'syscall-latency.bpf.o');
  const multiarch = arch() === 'x64' ? 'x86_64' : 'aarch64';
  execFileSync(CLANG, ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}-linux-gnu`, '-c', join(ROOT, 'test/fixtures/live-data/syscall-latency.bpf.c'), '-o', object]);

  // The shell waits for a line, then becomes dd (same pid): the probe can be filtered to that pid beforehand.
  workload = spawn('/bin/sh', ['-c', `read go; exec dd if=/dev/zero of=/dev/null bs=1 count=${WRITES} status=none`], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => workload!.on('exit', (code) => resolve(code)));
  const pid = workload.pid as number;

  agent = await buildTestAgent();
  client = await connectLocalAgent({ agentPath: agent.path });
  const loaded = await client.request('load', {
    object: readFileSync(object).toString('base64'), objectName: 'syscall-latency.bpf.o',
    globals: { target_tgid: pid, target_nr: WRITE_NR[arch()], min_event_ns: 1_000_000_000 },
  });
  assert.ok(loaded.programs.every((p) => p.attached), `attached: ${JSON.stringify(loaded.programs)}`);
  workload.stdin!.end('go\n');
  assert.equal(await exited, 0, 'dd finished');

  const source = agentChunkSource(client);
  const hists = await readMapSnapshot(source, { session: loaded.session, map: 'lat_ns_hists' });
  const slots = await readMapSnapshot(source, { session: loaded.session, map: 'lat_ns_slots' });
  assert.equal(hists.count, 1, 'one process was traced');
  await client.request('detach', { session: loaded.session });

  browser = await launchBrowser();
  const perKey = await openLiveView(browser, 'histogram');
  await perKey.post({ type: 'init', target: { view: 'histogram', title: 'dd write latency', target: 'local', session: loaded.session, map: 'lat_ns_hists' }, refreshIntervalMs: 1000, paused: false });
  await perKey.post(snapshotMessage(hists));
  assert.equal((await perKey.page.locator('[data-stat="total"] b').textContent())?.trim(), WRITES.toLocaleString('en-US'));
  assert.ok(await perKey.page.locator('vscode-option', { hasText: /dd$/ }).count() === 1, 'the key picker names the process dd');
  await perKey.screenshot('e2e-histogram-dd-writes');

  const all = await openLiveView(browser, 'histogram');
  await all.post({ type: 'init', target: { view: 'histogram', title: 'all', target: 'local', session: loaded.session, map: 'lat_ns_slots' }, refreshIntervalMs: 1000, paused: false });
  await all.post(snapshotMessage(slots));
  assert.equal((await all.page.locator('[data-stat="total"] b').textContent())?.trim(), WRITES.toLocaleString('en-US'));
  assert.deepEqual([...perKey.errors, ...all.errors], []);
});
