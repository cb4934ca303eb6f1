// The full tier-2 check on this kernel: every fixture probe's verdict and line equal what bpftool's own load
// reports, clang errors land on clang's line, vmlinux.h is generated once per BTF hash (the corpus: corpus-verdicts.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { AgentClient } from '../../../engine/targets/agent-client';
import { connectLocalAgent } from '../../../engine/targets/local-transport';
import { findClang } from '../../../engine/toolchain/find-clang';
import { provideVmlinuxHeader } from '../../../engine/toolchain/vmlinux-header';
import { verifyProbe } from '../../../engine/verify/verify-probe';
import { readProbePrograms } from '../../../server/src/analysis/probe-programs';
import { verifyProbe as kernelVerdictByBpftool, vmlinuxIncludeDir } from '../../../scripts/corpus-verdicts';
import { agentBundle, probesDir, repoRoot, skipUnlessReady, waitForBackgroundWork } from './agent-under-test';
import { verdictAndLine } from './tier-two-verdict';

const skip = skipUnlessReady();

async function withAgent<T>(fn: (agent: AgentClient) => Promise<T>): Promise<T> {
  const agent = await connectLocalAgent({ agentPath: agentBundle() });
  try {
    return await fn(agent);
  } finally {
    await agent.close();
  }
}

test('every fixture probe: verdict and line equal bpftool prog loadall on this kernel', { skip, timeout: 300_000 }, async () => {
  const includeDir = vmlinuxIncludeDir();
  // Left out: an object without programs (its own test), and SEC("?...") programs, which bpftool 7.1's loadall
  // cannot pin ("can't pin program that wasn't loaded") although the kernel accepted all it was given.
  const probes = readdirSync(probesDir).filter((f) => f.endsWith('.bpf.c') && f !== 'no-programs.bpf.c' && f !== 'optional-program.bpf.c');
  await withAgent(async (agent) => {
    for (const probe of probes) {
      const ours = verdictAndLine(await verifyProbe({ sourcePath: join(probesDir, probe), programs: await readProbePrograms(join(probesDir, probe)), agent }));
      const kernel = await kernelVerdictByBpftool(join(probesDir, probe), includeDir);
      assert.deepEqual(ours, { verdict: kernel.verdict, ...(kernel.line !== undefined ? { line: kernel.line } : {}) }, `${probe}: bpftool says ${kernel.verdict}:${kernel.line} (${kernel.message})`);
    }
  });
});

test('rejections carry the kernel message, an explanation, the register state and the program', { skip }, async () => {
  await withAgent(async (agent) => {
    const result = await verifyProbe({ sourcePath: join(probesDir, 'mixed.bpf.c'), programs: await readProbePrograms(join(probesDir, 'mixed.bpf.c')), agent });
    assert.equal(result.verdict, 'rejected');
    const [diagnostic] = result.diagnostics.get(join(probesDir, 'mixed.bpf.c')) ?? [];
    assert.equal(diagnostic.source, 'verifier');
    assert.equal(diagnostic.code, 'null-map-value');
    assert.equal(diagnostic.range.start.line, 32);
    assert.match(diagnostic.message as string, /^R0 invalid mem access 'map_value_or_null'\n.*NULL/);
    assert.ok(diagnostic.relatedInformation?.some((r) => r.message.startsWith('R0 = map_value_or_null(')));
    const accepted = result.programs.find((p) => p.name === 'count_getpid');
    assert.equal(accepted?.accepted, true);
    assert.equal(accepted?.declarationLine, 11);
    const lockdown = await verifyProbe({ sourcePath: join(probesDir, 'fentry-lockdown.bpf.c'), programs: await readProbePrograms(join(probesDir, 'fentry-lockdown.bpf.c')), agent });
    const [eperm] = lockdown.diagnostics.get(join(probesDir, 'fentry-lockdown.bpf.c')) ?? [];
    assert.equal(lockdown.programs[0].errno, 1);
    assert.equal(eperm.code, 'lockdown');
    assert.match(eperm.message as string, /EPERM.*\n.*lockdown/s);
    assert.equal(eperm.range.start.line, 5, 'placed on the SEC line');
  });
});

test('two SEC("xdp") programs: each one\'s code lens line and line-less rejection land on its own SEC line', { skip }, async () => {
  const source = join(repoRoot, 'test', 'fixtures', 'programs', 'two-xdp.bpf.c');
  const lines = readFileSync(source, 'utf8').split('\n');
  const secLineAbove = (name: string) => lines.findIndex((line, i) => new RegExp(`\\b${name}\\(`).test(lines[i + 1] ?? '') && line === 'SEC("xdp")');
  await withAgent(async (agent) => {
    const result = await verifyProbe({ sourcePath: source, programs: await readProbePrograms(source), agent });
    assert.equal(result.verdict, 'rejected');
    const expected = [['xdp_pass_all', secLineAbove('xdp_pass_all')], ['xdp_drop_marked', secLineAbove('xdp_drop_marked')]];
    assert.notEqual(expected[0][1], expected[1][1]);
    assert.deepEqual(result.programs.map((p) => [p.name, p.declarationLine]), expected, 'the verifier code lens lines');
    assert.deepEqual(result.programs.map((p) => [p.name, p.failure?.line, p.failure?.lineFrom]), expected.map(([name, line]) => [name, line, 'declaration']));
    const diagnostics = result.diagnostics.get(source) ?? [];
    assert.deepEqual(
      diagnostics.map((d) => [/\(program (\w+), section xdp\)/.exec(d.message as string)?.[1], d.range.start.line]),
      expected,
      'each refusal (the kernel has no ebpf_studio_missing_ksym) on its own program',
    );
    assert.ok(diagnostics.every((d) => /ebpf_studio_missing_ksym/.test(d.message as string)));
  });
});

test('a map the kernel will not create: libbpf\'s message on the map\'s definition line', { skip }, async () => {
  const source = join(probesDir, 'map-create-failure.bpf.c');
  await withAgent(async (agent) => {
    const result = await verifyProbe({ sourcePath: source, programs: await readProbePrograms(source), agent });
    assert.equal(result.verdict, 'rejected');
    const [diagnostic] = result.diagnostics.get(source) ?? [];
    assert.match(diagnostic.message as string, /^map 'counts': failed to create: Invalid argument/);
    assert.match(readFileSync(source, 'utf8').split('\n')[diagnostic.range.start.line], /counts SEC\("\.maps"\)/);
  });
});

test('SEC("?...") programs are left out like libbpf does, unless asked for; an unknown SEC name is explained', { skip }, async () => {
  const optional = join(probesDir, 'optional-program.bpf.c');
  await withAgent(async (agent) => {
    const lines: string[] = [];
    const result = await verifyProbe({ sourcePath: optional, programs: await readProbePrograms(optional), agent, onProgress: (line) => lines.push(line) });
    assert.equal(result.verdict, 'accepted');
    assert.deepEqual(result.programs.map((p) => p.name), ['always_loaded']);
    assert.ok(lines.some((l) => /optional_unchecked .*not verified, not loaded by default/.test(l)));
    const asked = await agent.request('verify', { object: (result.object as Buffer).toString('base64'), programs: ['optional_unchecked'] });
    assert.equal(asked.programs[0].accepted, false, 'verified when asked for by name');

    const work = mkdtempSync(join(os.tmpdir(), 'ebpf-section-'));
    try {
      const unknown = join(work, 'unknown-section.bpf.c');
      writeFileSync(unknown, '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n\nSEC("not_a_section")\nint weird(void *ctx)\n{\n\treturn 0;\n}\n\nchar LICENSE[] SEC("license") = "GPL";\n');
      const refused = await verifyProbe({ sourcePath: unknown, programs: await readProbePrograms(unknown), agent });
      assert.equal(refused.verdict, 'rejected');
      const [diagnostic] = refused.diagnostics.get(unknown) ?? [];
      assert.equal(diagnostic.code, 'unknown-section');
      assert.match(diagnostic.message as string, /missing BPF prog type, check ELF section name 'not_a_section'/);
      assert.equal(diagnostic.range.start.line, 3, 'on the SEC line');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

test('a kprobe program verifies, and on a kernel without kprobes an information note says why it cannot attach', { skip }, async () => {
  const work = mkdtempSync(join(os.tmpdir(), 'ebpf-kprobe-'));
  try {
    const probe = join(work, 'unlink.bpf.c');
    writeFileSync(probe, '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n\nSEC("kprobe/do_unlinkat")\nint on_unlink(void *ctx)\n{\n\treturn 0;\n}\n\nchar LICENSE[] SEC("license") = "GPL";\n');
    await withAgent(async (agent) => {
      const hello = await agent.request('hello', {});
      const result = await verifyProbe({ sourcePath: probe, programs: await readProbePrograms(probe), agent });
      assert.equal(result.verdict, 'accepted');
      const notes = (result.diagnostics.get(probe) ?? []).filter((d) => d.code === 'kprobes-unavailable');
      const kprobeEvents = existsSync('/sys/kernel/tracing/kprobe_events') || existsSync('/sys/kernel/debug/tracing/kprobe_events');
      assert.equal(hello.kprobes, kprobeEvents);
      assert.equal(notes.length, kprobeEvents ? 0 : 1);
      if (notes[0]) {
        assert.equal(notes[0].severity, 3);
        assert.equal(notes[0].range.start.line, 3);
        assert.match(notes[0].message as string, /CONFIG_KPROBES/);
      }
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a clang error becomes a diagnostic on the line clang names', { skip }, async () => {
  const source = join(probesDir, 'compile-error.bpf.c');
  const clangSays = spawnSync('clang-19', ['-target', 'bpf', '-fsyntax-only', `-I/usr/include/${os.machine()}-linux-gnu`, source], { encoding: 'utf8' }).stderr;
  const clangLine = Number(/compile-error\.bpf\.c:(\d+):\d+: error/.exec(clangSays)?.[1]);
  await withAgent(async (agent) => {
    const result = await verifyProbe({ sourcePath: source, programs: await readProbePrograms(source), agent });
    assert.equal(result.verdict, 'compile-error');
    const [diagnostic] = result.diagnostics.get(source) ?? [];
    assert.equal(diagnostic.source, 'clang');
    assert.equal(diagnostic.range.start.line + 1, clangLine);
    assert.match(diagnostic.message as string, /undeclared identifier 'undeclared_value'/);
  });
});

test('vmlinux.h is generated once per BTF hash, from the target agent\'s BTF', { skip, timeout: 120_000 }, async () => {
  const cacheRoot = mkdtempSync(join(os.tmpdir(), 'ebpf-vmlinux-'));
  try {
    const sha = createHash('sha256').update(readFileSync('/sys/kernel/btf/vmlinux')).digest('hex');
    await withAgent(async (agent) => {
      let fetches = 0;
      const source = {
        fetchBtf: async () => {
          fetches++;
          return Buffer.from((await agent.request('btf', {})).btf, 'base64');
        },
      };
      const [first, concurrent] = await Promise.all([provideVmlinuxHeader([], source, cacheRoot), provideVmlinuxHeader([], source, cacheRoot)]);
      assert.equal(first.origin, 'generated');
      assert.equal(concurrent.origin, 'cache', 'a concurrent request waits for the same generation');
      assert.equal(first.path, join(cacheRoot, sha, 'vmlinux.h'));
      const written = statSync(first.path).mtimeMs;
      assert.match(readFileSync(first.path, 'utf8').slice(0, 4096), /#ifndef __VMLINUX_H__/);
      const again = await provideVmlinuxHeader([], { ...source, knownSha256: sha }, cacheRoot);
      assert.deepEqual(again, { origin: 'cache', path: first.path, sha256: sha });
      assert.equal(fetches, 2, 'the known hash skips the BTF fetch');
      assert.equal(statSync(first.path).mtimeMs, written, 'never generated twice');
      assert.deepEqual(readdirSync(join(cacheRoot, sha)), ['vmlinux.h'], 'no temporary files left');

      const result = await verifyProbe({ sourcePath: join(probesDir, 'accepted-vmlinux.bpf.c'), programs: await readProbePrograms(join(probesDir, 'accepted-vmlinux.bpf.c')), agent, vmlinuxCacheRoot: cacheRoot });
      assert.equal(result.verdict, 'accepted');
      assert.equal(result.vmlinux?.origin, 'cache');
      const userDir = mkdtempSync(join(os.tmpdir(), 'ebpf-inc-'));
      try {
        writeFileSync(join(userDir, 'vmlinux.h'), readFileSync(first.path));
        const fromIncludePath = await verifyProbe({ sourcePath: join(probesDir, 'accepted-vmlinux.bpf.c'), programs: await readProbePrograms(join(probesDir, 'accepted-vmlinux.bpf.c')), agent, includePaths: [userDir], vmlinuxCacheRoot: cacheRoot });
        assert.deepEqual(fromIncludePath.vmlinux, { origin: 'include-path', path: join(userDir, 'vmlinux.h') });
      } finally {
        rmSync(userDir, { recursive: true, force: true });
      }
    });
  } finally {
    // The verify's compile started precompiling the header in the background: no builder outlives its cache folder.
    waitForBackgroundWork(cacheRoot);
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});

test('two processes asking at once generate vmlinux.h once (a lock file says who generates)', { skip, timeout: 120_000 }, async () => {
  const cacheRoot = mkdtempSync(join(os.tmpdir(), 'ebpf-vmlinux-'));
  try {
    const module = JSON.stringify(join(repoRoot, 'engine', 'toolchain', 'vmlinux-header.ts'));
    const script = `const btf = require('node:fs').readFileSync('/sys/kernel/btf/vmlinux');
      require(${module}).provideVmlinuxHeader([], { fetchBtf: async () => btf }, ${JSON.stringify(cacheRoot)})
        .then((o) => console.log(o.origin), (e) => console.log('error ' + e.message))`;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.on('error', reject);
        child.on('close', () => resolve(out.trim()));
      });
    const origins = (await Promise.all([run(), run()])).sort();
    assert.deepEqual(origins, ['cache', 'generated']);
    const [shaDir] = readdirSync(cacheRoot);
    assert.deepEqual(readdirSync(join(cacheRoot, shaDir)), ['vmlinux.h'], 'no lock or temporary file left');
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});

test('a file that is not BPF C gets one clear diagnostic, not a crash', { skip }, async () => {
  const work = mkdtempSync(join(os.tmpdir(), 'ebpf-notbpf-'));
  try {
    const plain = join(work, 'plain.bpf.c');
    writeFileSync(plain, 'int add(int a, int b)\n{\n\treturn a + b;\n}\n');
    await withAgent(async (agent) => {
      const result = await verifyProbe({ sourcePath: plain, programs: await readProbePrograms(plain), agent });
      assert.equal(result.verdict, 'load-error');
      const [diagnostic] = result.diagnostics.get(plain) ?? [];
      assert.equal(diagnostic.code, 'no-programs');
      assert.match(diagnostic.message as string, /no BPF programs/);
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('of clang, clang-19 … clang-14 on PATH, the newest is used', { skip }, async () => {
  const majors = ['clang', 'clang-19', 'clang-18', 'clang-17', 'clang-16', 'clang-15', 'clang-14'].flatMap((name) => {
    const run = spawnSync(name, ['--version'], { encoding: 'utf8' });
    const version = /clang version (\d+)/.exec(run.stdout ?? '')?.[1];
    return version ? [Number(version)] : [];
  });
  const chosen = await findClang();
  assert.equal(Number(chosen.version.split('.')[0]), Math.max(...majors), `found ${majors.join(', ')}`);
});

test('without clang, one message says how to install it', { skip }, () => {
  const script = `require(${JSON.stringify(join(repoRoot, 'engine', 'toolchain', 'find-clang.ts'))}).findClang().then(() => console.log('found'), (e) => console.log(e.message))`;
  const emptyDir = mkdtempSync(join(os.tmpdir(), 'empty-path-'));
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, PATH: emptyDir } });
    assert.match(out, /clang is needed.*apt-get install clang-19/);
  } finally {
    rmSync(emptyDir, { recursive: true, force: true });
  }
});
