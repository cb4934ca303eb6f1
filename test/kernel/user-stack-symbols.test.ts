// User-space stack symbols: a uprobe on a gcc-built process we start records its stacks via `ebpf-studio run`, which prints
// them named from its ELF (probed function, main); the agent names kernel addresses; an exited process leaves addresses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { runRunCommand } from '../../cli/src/run-command';
import { connectLocalAgent } from '../../engine/targets/local-transport';
import { buildTestAgent, PROJECT_ROOT, type TestAgentBundle } from './build-test-agent';
import { missingPrerequisite, skipUnless } from './kernel-prerequisites';

const FIXTURES = join(PROJECT_ROOT, 'test/fixtures/stacks');
const skip = skipUnless(missingPrerequisite() ?? (spawnSync('sh', ['-c', 'command -v gcc']).status === 0 ? undefined : 'gcc'), 'user-stack symbol tests');

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let bundle: TestAgentBundle;
let dir: string;
let binary: string;
let workload: ChildProcessWithoutNullStreams | undefined;

before(async () => {
  if (skip) return;
  bundle = await buildTestAgent();
  process.env.EBPF_STUDIO_AGENT = bundle.path;
  dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-ustack-'));
  binary = join(dir, 'stack-workload');
  execFileSync('gcc', ['-g', '-O0', '-fno-omit-frame-pointer', '-o', binary, join(FIXTURES, 'stack-workload.c')]);
  workload = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  await once(workload.stdout, 'data');
});
after(async () => {
  if (workload && workload.exitCode === null) {
    const exited = once(workload, 'exit');
    workload.stdin.end();
    await exited;
  }
  delete process.env.EBPF_STUDIO_AGENT;
  bundle?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a uprobe records user stacks of our process, and run prints them named from its ELF', { skip }, async () => {
  const pid = workload!.pid as number;
  const out = new Collect();
  const err = new Collect();
  const code = await runRunCommand([join(FIXTURES, 'user-stacks.bpf.c'), '--format', 'json', '--duration', '2', '--interval', '1',
    '--param', `binaryPath=${binary}`, '--param', 'symbol=studio_marker_leaf', '--param', `pid=${pid}`], out, err);
  assert.equal(code, 0, err.text);
  const samples = out.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { maps: Record<string, { key: unknown; value: unknown }[]> });
  const last = samples.at(-1)!;
  const counted = last.maps.counts.find((e) => (e.key as { tgid: number }).tgid === pid);
  assert.ok(counted && (counted.key as { user_stack_id: number }).user_stack_id >= 0, `a stack recorded for pid ${pid}: ${JSON.stringify(last.maps.counts)}`);
  const stack = last.maps.stacks.find((e) => e.key === (counted.key as { user_stack_id: number }).user_stack_id);
  assert.ok(stack, `the stack id is in the stack map: ${out.text.slice(-1500)} ${err.text}`);
  const frames = stack.value as string[];
  assert.equal(frames[0], 'studio_marker_leaf+0x0 (stack-workload)', `frames: ${frames.join(' | ')}`);
  assert.ok(frames.some((f) => /^main\+0x[0-9a-f]+ \(stack-workload\)$/.test(f)), `main among ${frames.join(' | ')}`);
});

test('the agent names kernel addresses from kallsyms; once the process has exited its addresses stay addresses, and it says why', { skip }, async () => {
  const client = await connectLocalAgent({ agentPath: bundle.path });
  try {
    // A text symbol alone at its address in this kernel's /proc/kallsyms, and an address 4 bytes into it.
    const text = readFileSync('/proc/kallsyms', 'utf8').split('\n').map((l) => l.split(/\s+/)).filter((f) => /^[tT]$/.test(f[1] ?? ''));
    const perAddress = new Map<string, number>();
    for (const [address] of text) perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    const [address, , symbol] = text.find(([a, , name]) => name === 'schedule' && perAddress.get(a) === 1) ?? text.find(([a]) => perAddress.get(a) === 1)!;
    const kernelAddress = `0x${(BigInt(`0x${address}`) + 4n).toString(16)}`;
    assert.deepEqual(await client.request('stackSymbols', { addresses: [kernelAddress, '0x1'] }), { frames: [`${symbol}+0x4`, '0x1'] }, 'a user address without a process stays as it is');
    const pid = workload!.pid as number;
    const live = await client.request('stackSymbols', { pid, addresses: ['0x1'] });
    assert.deepEqual(live, { frames: ['0x1'] }, 'an address outside every mapping stays as it is');
    const exited = once(workload!, 'exit');
    workload!.stdin.end();
    await exited;
    const gone = await client.request('stackSymbols', { pid, addresses: ['0x401000', kernelAddress] });
    assert.deepEqual(gone.frames, ['0x401000', `${symbol}+0x4`]);
    assert.match(gone.note ?? '', new RegExp(`^process ${pid} has exited`));
  } finally {
    await client.close();
  }
});
