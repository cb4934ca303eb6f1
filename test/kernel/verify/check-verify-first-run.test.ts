// `ebpf-studio check --verify` as on a fresh machine (an empty cache folder) gives the verdicts and diagnostics of a run with
// caches warm, on real libbpf-tools probes and a broken one, and leaves vmlinux.h and its PCH for the next runs (real clang, kernel).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { agentBundle, probesDir, repoRoot, skipUnlessReady } from './agent-under-test';

const skip = skipUnlessReady('check --verify first-run tests');
const CLI = join(repoRoot, 'cli', 'src', 'cli.ts');
const TOOLS = resolve(repoRoot, '..', 'shared', 'realworld', 'libbpf-tools');

function checkVerify(files: string[], cacheHome: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'check', '--verify', '--format', 'json', ...files], {
      cwd: repoRoot,
      env: { ...process.env, XDG_CACHE_HOME: cacheHome, EBPF_STUDIO_AGENT: agentBundle() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Every file under `dir`, relative to it. */
const filesUnder = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' });

/** Waits until no background generation or precompile (their lock files) is left under the cache (hang guard: 2 minutes). */
async function backgroundWorkDone(cacheHome: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (filesUnder(cacheHome).some((f) => f.endsWith('generating.lock') || f.endsWith('.pch.building'))) {
    assert.ok(Date.now() < deadline, 'background work under the cache finished');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('check --verify with an empty cache: the verdicts and diagnostics of a warm run, and a cache the next runs use', { skip, timeout: 600_000 }, async () => {
  const scratch = mkdtempSync(join(os.tmpdir(), 'ebpf-first-run-'));
  const broken = join(scratch, 'broken.bpf.c');
  // Compiles with no type this probe names missing, but reads a member task_struct does not have: clang must say so.
  writeFileSync(broken, '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n\nSEC("tp_btf/sched_process_exec")\nint f(u64 *ctx)\n{\n\tstruct task_struct *t = bpf_get_current_task_btf();\n\treturn t->no_such_member;\n}\n\nchar LICENSE[] SEC("license") = "GPL";\n');
  const realworld = ['drsnoop', 'bindsnoop', 'tcpstates', 'runqlen'].map((name) => join(TOOLS, `${name}.bpf.c`)).filter((f) => existsSync(f));
  const files = [...realworld, join(probesDir, 'accepted-vmlinux.bpf.c'), join(probesDir, 'core-relocation-missing-field.bpf.c'), broken];
  try {
    // Each file alone on a machine with an empty cache: its first compile on this kernel.
    const firsts: { code: number | null; stdout: string; stderr: string }[] = [];
    for (const [i, file] of files.entries()) {
      const fresh = join(scratch, `fresh-${i}`);
      const run = await checkVerify([file], fresh);
      firsts.push(run);
      assert.match(run.stderr, /only the types the probe names/, `${file}: the first run compiles against the types the probe names`);
      await backgroundWorkDone(fresh);
      assert.equal(filesUnder(fresh).filter((f) => f.endsWith('vmlinux.h')).length, 1, `${file}: the whole vmlinux.h is in the cache after: ${filesUnder(fresh).join(', ')}`);
      assert.equal(filesUnder(fresh).filter((f) => f.endsWith('.pch')).length, 1, `${file}: and its precompiled form: ${filesUnder(fresh).join(', ')}`);
    }
    assert.match(firsts[files.indexOf(broken)].stderr, /compiling again with the whole vmlinux\.h/, 'the broken probe is compiled again with the whole header');

    // Then all of them on one cache: the header generated in the foreground and compiled plainly, then read precompiled.
    const shared = join(scratch, 'warm');
    await checkVerify(files, shared);
    await backgroundWorkDone(shared);
    const second = await checkVerify(files, shared);
    assert.match(second.stderr, /vmlinux\.h: \S+ \(cached/, 'the second run reads the cached header');
    await backgroundWorkDone(shared);
    assert.ok(filesUnder(shared).some((f) => f.endsWith('.pch')), 'a precompiled header is in the cache');
    const warm = await checkVerify(files, shared);
    assert.match(warm.stderr, /-include-pch/, 'the warm run compiles through the precompiled header');

    assert.equal(warm.code, 1, warm.stderr);
    type FileResult = { file: string; diagnostics: { source?: string; message: string }[]; verdicts?: { verdict: string }[] };
    // The kernel's own timing in a verifier log is the one thing that differs from run to run.
    const results = (stdout: string) => JSON.parse(stdout.replace(/verification time \d+ usec/g, 'verification time (timed) usec')) as FileResult[];
    const warmResults = results(warm.stdout);
    const warmOf = (file: string) => warmResults.find((r) => r.file === file);
    for (const [i, file] of files.entries()) {
      const [first] = results(firsts[i].stdout);
      assert.deepEqual(first, warmOf(file), `${file}: the first run (empty cache) and the warm run agree`);
    }
    for (const file of [...realworld, join(probesDir, 'accepted-vmlinux.bpf.c')]) assert.equal(warmOf(file)?.verdicts?.[0]?.verdict, 'accepted', file);
    assert.equal(warmOf(join(probesDir, 'core-relocation-missing-field.bpf.c'))?.verdicts?.[0]?.verdict, 'rejected');
    assert.equal(warmOf(broken)?.verdicts?.[0]?.verdict, 'compile-error');
    assert.ok(warmOf(broken)?.diagnostics.some((d) => d.source === 'clang' && /no_such_member/.test(d.message)));
  } finally {
    for (const dir of readdirSync(scratch)) if (dir.startsWith('fresh-') || dir === 'warm') await backgroundWorkDone(join(scratch, dir)).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
});
