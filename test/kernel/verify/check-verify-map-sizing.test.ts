// `check --verify` sizes maps as `run` does (defaults for maps the source leaves unsized, --map-size): capable, futexctn
// and offcputime from ../shared/realworld verify, and bpftool prog loadall agrees once given maps of the same sizes.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCheckCommand, type FileDiagnostics } from '../../../cli/src/check-command';
import { vmlinuxIncludeDir } from '../../../scripts/corpus-verdicts';
import { bpfTargetArch, multiarchIncludeDir } from '../../../engine/toolchain/target-arch';
import { agentBundle, repoRoot, skipUnlessReady } from './agent-under-test';

const REALWORLD_TOOLS = resolve(repoRoot, '..', 'shared', 'realworld', 'libbpf-tools');
const skip = existsSync(REALWORLD_TOOLS) ? skipUnlessReady('check --verify map sizing tests') : process.env.CI === 'true' ? (() => { throw new Error(`these tests need ${REALWORLD_TOOLS}`); })() : `needs ${REALWORLD_TOOLS}`;

/** What this kernel has, asked live: kprobes (tracefs kprobe_events). */
const kprobes = existsSync('/sys/kernel/tracing/kprobe_events') || existsSync('/sys/kernel/debug/tracing/kprobe_events');

async function check(args: string[]): Promise<{ code: number; results: FileDiagnostics[]; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  process.env.EBPF_STUDIO_AGENT = agentBundle();
  const code = await runCheckCommand(['--verify', '--format', 'json', ...args], out, err);
  const stdout = Buffer.concat(chunks.out).toString();
  return { code, results: stdout ? (JSON.parse(stdout) as FileDiagnostics[]) : [], stderr: Buffer.concat(chunks.err).toString() };
}

describe('check --verify sizes maps the way run does', { skip }, () => {
  const work = skip ? '' : mkdtempSync(join(os.tmpdir(), 'ebpf-studio-map-sizing-'));
  const pins = `/sys/fs/bpf/ebpf-studio-test-map-sizing-${process.pid}`;
  after(() => {
    rmSync(pins, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /**
   * The kernel's own verdict through bpftool: the probe compiled by hand, loaded with `prog loadall`, its stack-trace map
   * either left as the source declares it or created beforehand at `size` and handed to bpftool (`map name stackmap pinned`).
   */
  function bpftoolLoads(name: string, size?: { entries: number; valueBytes: number }): { ok: boolean; stderr: string } {
    const object = join(work, `${name}.bpf.o`);
    const multiarch = multiarchIncludeDir(os.machine());
    execFileSync('clang-19', ['-g', '-O2', '-target', 'bpf', `-D__TARGET_ARCH_${bpfTargetArch(os.machine())}`, `-I${REALWORLD_TOOLS}`, `-I${vmlinuxIncludeDir()}`, ...(multiarch ? [`-I${multiarch}`] : []), '-c', join(REALWORLD_TOOLS, `${name}.bpf.c`), '-o', object]);
    rmSync(pins, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', pins]);
    const reuse: string[] = [];
    if (size) {
      const map = join(pins, 'stackmap');
      execFileSync('bpftool', ['map', 'create', map, 'type', 'stack_trace', 'key', '4', 'value', String(size.valueBytes), 'entries', String(size.entries), 'name', 'stackmap']);
      reuse.push('map', 'name', 'stackmap', 'pinned', map);
    }
    const load = spawnSync('bpftool', ['prog', 'loadall', object, join(pins, 'progs'), ...reuse], { encoding: 'utf8' });
    rmSync(pins, { recursive: true, force: true });
    return { ok: load.status === 0, stderr: load.stderr };
  }

  for (const name of ['capable', 'futexctn', 'offcputime']) {
    test(`${name}: accepted with the default stack-trace map size, as bpftool's load of maps that size`, { timeout: 120_000 }, async () => {
      const file = join(REALWORLD_TOOLS, `${name}.bpf.c`);
      const { code, results, stderr } = await check([file]);
      assert.equal(code, 0, stderr);
      const [verdict] = results[0].verdicts ?? [];
      assert.equal(verdict?.verdict, 'accepted', stderr);
      assert.ok(verdict.programs.length >= 2 && verdict.programs.every((p) => p.accepted), JSON.stringify(verdict.programs));
      assert.match(stderr, /^map stackmap: max_entries 1024: default, 1024 stacks .*; value size 1016 bytes: default, 127 frames/m);
      assert.deepEqual(results[0].diagnostics.filter((d) => d.severity === 1), []);
      // All programs verify in one load (maps created once), each still with its own log's figures.
      for (const program of verdict.programs) assert.match(stderr, new RegExp(`^${program.name}: accepted, \\d+ of 1,000,000 insns processed`, 'm'));
      if (name === 'capable' && !kprobes) {
        // The programs' lines come from the static pass's parse, handed to the verify: the note sits on each SEC line.
        const lines = readFileSync(file, 'utf8').split('\n');
        const notes = results[0].diagnostics.filter((d) => d.code === 'kprobes-unavailable');
        assert.equal(notes.length, 2);
        for (const note of notes) assert.match(lines[note.range.start.line], /^SEC\("k(ret)?probe\/cap_capable"\)/);
      }
      // The kernel: unsized, the map cannot be created; sized as check --verify sized it, the object loads.
      const unsized = bpftoolLoads(name);
      assert.equal(unsized.ok, false);
      assert.match(unsized.stderr, /map 'stackmap': failed to create: Invalid argument/);
      const sized = bpftoolLoads(name, { entries: 1024, valueBytes: 1016 });
      assert.equal(sized.ok, true, sized.stderr);
    });
  }

  test('futexctn with --map-size stackmap=512:800: the asked size is applied and said, and bpftool agrees at that size', { timeout: 120_000 }, async () => {
    const file = join(REALWORLD_TOOLS, 'futexctn.bpf.c');
    const { code, results, stderr } = await check(['--map-size', 'stackmap=512:800', file]);
    assert.equal(code, 0, stderr);
    assert.equal(results[0].verdicts?.[0].verdict, 'accepted');
    assert.match(stderr, /^map stackmap: max_entries 512 \(asked\); value size 800 bytes \(asked\)/m);
    assert.equal(bpftoolLoads('futexctn', { entries: 512, valueBytes: 800 }).ok, true);
  });

  test('a --map-size for a map the object lacks is an error that names the maps it has', { timeout: 120_000 }, async () => {
    const file = join(REALWORLD_TOOLS, 'futexctn.bpf.c');
    const { code, results } = await check(['--map-size', 'nosuch=4', file]);
    assert.equal(code, 1);
    const [error] = results[0].diagnostics.filter((d) => d.source === 'verifier');
    assert.equal(error.code, 'unknown-name');
    assert.match(error.message as string, /The object has no map nosuch to size; it has start, stackmap, hists/);
  });
});
