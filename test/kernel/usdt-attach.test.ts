// USDT attach on this kernel: a gcc-built workload fires ebpfstudio:tick a known number of times, and a SEC("usdt")
// BPF_USDT program loaded through the local agent must count exactly those hits and sum their argument. Talks to gcc, clang, the agent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AgentClient } from '../../engine/targets/agent-client';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { compileProbe } from '../../engine/toolchain/compile-probe';
import { findClang } from '../../engine/toolchain/find-clang';
import { buildTestAgent, PROJECT_ROOT, type TestAgentBundle } from './build-test-agent';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/usdt');
const TIMEOUT_MS = 5000;

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'root';
  if (spawnSync('sh', ['-c', 'command -v gcc']).status !== 0) return 'gcc';
  if (spawnSync('gcc', ['-E', '-x', 'c', '-'], { input: '#include <sys/sdt.h>\n' }).status !== 0) return '<sys/sdt.h> (apt-get install systemtap-sdt-dev)';
  if (!existsSync('/usr/include/bpf/usdt.bpf.h')) return '<bpf/usdt.bpf.h> (libbpf-dev 0.8+)';
  return undefined;
}
const missing = missingPrerequisite();
if (missing && process.env.CI === 'true') throw new Error(`usdt-attach kernel tests need ${missing}`);

/** The workload's sum of tick's second argument for one "count base" line: base + 0 … base + count - 1. */
const argumentSum = (count: number, base: number) => count * base + (count * (count - 1)) / 2;

/** One running test workload: `tick(count, base)` fires the probe and resolves with the semaphore it saw (-1: none). */
class Ticker {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly exited: Promise<void>;

  constructor(binary: string) {
    this.child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async nextLine(prefix: string): Promise<string> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const index = this.lines.findIndex((l) => l.startsWith(prefix));
      if (index >= 0) return this.lines.splice(index, 1)[0];
      if (Date.now() > deadline) throw new Error(`timed out after ${TIMEOUT_MS} ms waiting for "${prefix}" from the workload (pid ${this.pid})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async tick(count: number, base: number): Promise<number> {
    this.child.stdin.write(`${count} ${base}\n`);
    return Number((await this.nextLine('done ')).slice(5));
  }

  async stop(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}

describe('USDT attach through the agent', { skip: missing ? `needs ${missing}` : false }, () => {
  let dir: string;
  let plain: string;
  let gated: string;
  let bundle: TestAgentBundle;
  let client: AgentClient;
  let object: string;
  const tickers: Ticker[] = [];

  const startTicker = async (binary: string): Promise<Ticker> => {
    const ticker = new Ticker(binary);
    tickers.push(ticker);
    await ticker.nextLine('ready');
    return ticker;
  };

  /** tick_totals: [on_tick hits, on_tick sum, on_tick_by_section hits, on_tick_by_section sum]. */
  const totals = async (session: string): Promise<number[]> => {
    const r = await client.request('readMap', { session, map: 'tick_totals' });
    const values = Buffer.from(r.values, 'base64');
    return Array.from({ length: r.count }, (_, i) => Number(values.readBigUInt64LE(i * 8)));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-usdt-'));
    plain = join(dir, 'ticker');
    gated = join(dir, 'ticker-gated');
    execFileSync('gcc', ['-O2', '-Wall', '-o', plain, join(FIXTURES, 'usdt-ticker.c')]);
    execFileSync('gcc', ['-O2', '-Wall', '-DGATED_BY_SEMAPHORE', '-o', gated, join(FIXTURES, 'usdt-ticker.c')]);
    const compiled = await compileProbe({
      sourcePath: join(FIXTURES, 'usdt-count.bpf.c'),
      clang: await findClang(),
      machine: process.arch === 'arm64' ? 'aarch64' : 'x86_64',
      defines: [`TICKER_SECTION="usdt/${plain}:ebpfstudio:tick"`],
    });
    assert.ok(compiled.object, compiled.stderr);
    object = compiled.object.toString('base64');
    bundle = await buildTestAgent();
    client = await connectLocalAgent({ agentPath: bundle.path });
  });

  after(async () => {
    for (const ticker of tickers) await ticker.stop();
    await client?.close();
    bundle?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('binaryPath + usdtProvider + usdtName with a pid count exactly that process’s ticks and sum the argument', async () => {
    const traced = await startTicker(plain);
    const other = await startTicker(plain);
    const loaded = await client.request('load', { object, programs: ['on_tick'], attach: { on_tick: { binaryPath: plain, usdtProvider: 'ebpfstudio', usdtName: 'tick', pid: traced.pid } } });
    try {
      assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
      assert.ok(loaded.maps.some((m) => m.name === '__bpf_usdt_specs'), 'usdt.bpf.h’s spec map is created with the object');
      assert.equal(await traced.tick(25, 1000), -1, 'the plain workload has no semaphore');
      await other.tick(10, 5);
      const [hits, sum] = await totals(loaded.session);
      assert.equal(hits, 25, 'only the traced process’s 25 ticks count');
      assert.equal(sum, argumentSum(25, 1000));
    } finally {
      await client.request('detach', { session: loaded.session });
    }
  });

  test('a probe with a semaphore fires while attached with pid -1 (libbpf raises it via ref_ctr_offset) and stops after detach', async () => {
    const ticker = await startTicker(gated);
    assert.equal(await ticker.tick(4, 0), 0, 'no tracer: the semaphore is 0 and the probe is skipped');
    const loaded = await client.request('load', { object, programs: ['on_tick'], attach: { on_tick: { binaryPath: gated, usdtProvider: 'ebpfstudio', usdtName: 'tick', pid: -1 } } });
    try {
      assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
      assert.ok((await ticker.tick(12, 7)) > 0, 'attaching raised the semaphore of the already running process');
      const [hits, sum] = await totals(loaded.session);
      assert.equal(hits, 12);
      assert.equal(sum, argumentSum(12, 7));
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    assert.equal(await ticker.tick(1, 0), 0, 'detach lowered the semaphore again');
  });

  test('SEC("usdt/<path>:ebpfstudio:tick") attaches by its section, honouring the pid option', async () => {
    const traced = await startTicker(plain);
    const other = await startTicker(plain);
    const loaded = await client.request('load', { object, programs: ['on_tick_by_section'], attach: { on_tick_by_section: { pid: traced.pid } } });
    try {
      assert.equal(loaded.programs[0].attached, true, loaded.programs[0].attachError);
      await traced.tick(9, 100);
      await other.tick(3, 1);
      const [, , hits, sum] = await totals(loaded.session);
      assert.equal(hits, 9);
      assert.equal(sum, argumentSum(9, 100));
    } finally {
      await client.request('detach', { session: loaded.session });
    }
  });

  test('a relative binary path, a missing probe and a missing process are refused with the reason', async () => {
    const loaded = await client.request('load', {
      object,
      programs: ['on_tick'],
      attach: { on_tick: { binaryPath: 'tmp/ticker', usdtProvider: 'ebpfstudio', usdtName: 'tick' } },
    });
    try {
      assert.equal(loaded.programs[0].attached, false);
      assert.match(loaded.programs[0].attachError ?? '', /must be an absolute path/);
    } finally {
      await client.request('detach', { session: loaded.session });
    }
    const noProbe = await client.request('load', { object, programs: ['on_tick'], attach: { on_tick: { binaryPath: plain, usdtProvider: 'ebpfstudio', usdtName: 'no_such_probe' } } });
    try {
      assert.equal(noProbe.programs[0].attached, false);
      assert.match(noProbe.programs[0].attachError ?? '', /has no USDT probe ebpfstudio:no_such_probe .*readelf -n/);
    } finally {
      await client.request('detach', { session: noProbe.session });
    }
    const noProcess = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim();
    const gone = await client.request('load', { object, programs: ['on_tick'], attach: { on_tick: { binaryPath: plain, usdtProvider: 'ebpfstudio', usdtName: 'tick', pid: Number(noProcess) } } });
    try {
      assert.equal(gone.programs[0].attached, false);
      assert.match(gone.programs[0].attachError ?? '', new RegExp(`there is no process ${noProcess}`));
    } finally {
      await client.request('detach', { session: gone.session });
    }
  });
});
