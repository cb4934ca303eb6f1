// Records real live-view data for the webview tests: loads test/fixtures/live-data/syscall-latency.bpf.c
// through the agent, runs a workload (one process named "<img src=x>"), and saves map snapshots, program
// stats and ring-buffer records with their BTF into test/fixtures/live-data/syscall-latency.json.
// Run as root after `npm run build`: node --import tsx scripts/record-live-data.ts
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectLocalAgent } from '../engine/targets/local-transport';
import type { AgentEvent, ReadMapResult } from '../protocol/agent-rpc';

const ROOT = join(__dirname, '..');
const SOURCE = join(ROOT, 'test/fixtures/live-data/syscall-latency.bpf.c');
const OUT = join(ROOT, 'test/fixtures/live-data/syscall-latency.json');
const SNAPSHOTS = 8;
const INTERVAL_MS = 250;
const MAX_RECORDS = 600;

function runWorkload(binary: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'record-live-'));
  const multiarch = arch() === 'x64' ? 'x86_64' : 'aarch64';
  const object = join(dir, 'syscall-latency.bpf.o');
  execFileSync('/usr/bin/clang-19', ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}-linux-gnu`, '-c', SOURCE, '-o', object]);
  // A workload whose process name contains markup: the views must show it as text.
  const htmlNamed = join(dir, '<img src=x>');
  copyFileSync('/usr/bin/dd', htmlNamed);
  execFileSync('chmod', ['+x', htmlNamed]);
  const client = await connectLocalAgent({ agentPath: join(ROOT, 'dist/agent.js') });
  try {
    const session = await client.request('load', { object: readFileSync(object).toString('base64'), objectName: 'syscall-latency.bpf.o', globals: { min_event_ns: 20000 } });
    const batches: { time: number; records: string[]; dropped: number }[] = [];
    let kept = 0;
    client.onEvent((event: AgentEvent) => {
      if (event.session !== session.session || kept >= MAX_RECORDS) return;
      const records = event.records.slice(0, MAX_RECORDS - kept);
      kept += records.length;
      batches.push({ time: Date.now(), records, dropped: event.dropped });
    });
    const { btf: objectBtf } = await client.request('objectBtf', { session: session.session });
    await client.request('streamEvents', { session: session.session, map: 'events' });
    const mapNames = ['lat_ns_hists', 'lat_ns_slots', 'syscalls'];
    const maps: Record<string, { info: ReadMapResult['map']; possibleCpus: number; btf?: string; snapshots: { time: number; readMs: number; count: number; keys: string; values: string }[] }> = {};
    const stats: { time: number; programs: { name: string; id: number; runCnt: number; runTimeNs: number }[]; statsEnabled: boolean }[] = [];
    for (let s = 0; s < SNAPSHOTS; s++) {
      const work = [
        runWorkload(htmlNamed, ['if=/dev/zero', 'of=/dev/null', 'bs=512', `count=${2000 * (s + 1)}`, 'status=none']),
        runWorkload('/usr/bin/find', ['/usr/share/doc', '-maxdepth', '2']),
        runWorkload('/usr/bin/sleep', ['0.05']),
      ];
      await Promise.all(work);
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
      for (const name of mapNames) {
        const started = performance.now();
        const r = await client.request('readMap', { session: session.session, map: name, withBtf: s === 0 });
        const readMs = performance.now() - started;
        if (r.cursor) throw new Error(`${name} did not fit one chunk`);
        maps[name] ??= { info: r.map, possibleCpus: r.possibleCpus, ...(r.btf ? { btf: r.btf } : {}), snapshots: [] };
        maps[name].snapshots.push({ time: Date.now(), readMs, count: r.count, keys: r.keys, values: r.values });
      }
      const st = await client.request('stats', { session: session.session });
      stats.push({ time: Date.now(), programs: st.programs.map((p) => ({ name: p.name, id: p.id, runCnt: p.runCnt, runTimeNs: p.runTimeNs })), statsEnabled: st.statsEnabled });
    }
    await client.request('detach', { session: session.session });
    writeFileSync(OUT, `${JSON.stringify({
      recordedAt: new Date().toISOString(),
      kernel: release(),
      source: 'test/fixtures/live-data/syscall-latency.bpf.c',
      objectBtf,
      maps,
      stats,
      events: { map: 'events', eventType: 'event', batches },
    }, null, 1)}\n`);
    console.log(`recorded ${SNAPSHOTS} snapshots of ${mapNames.join(', ')}, ${stats.length} stats samples, ${kept} records into ${OUT}`);
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
