// `check --verify --target kernel:6.1 --target kernel:6.12 --target local`: Debian's 6.1 and 6.12 kernels booted
// here in QEMU (once each), a probe 6.1 rejects on its line and the others accept, the static tier's 6.1 finding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Diagnostic } from 'vscode-languageserver-types';
import { checkText, runCheckCommand } from '../../../cli/src/check-command';
import { cachedKernels, kernelCacheRoot } from '../../../engine/kernels/kernel-images';
import type { KernelVerdict, MatrixDiagnosticData } from '../../../engine/verify/verdict-matrix';
import { parseKernelVersion } from '../../../server/src/kernel/kernel-version';
import { buildTestAgent, PROJECT_ROOT as repoRoot } from '../build-test-agent';
import { missingPrerequisite } from '../kernel-prerequisites';
import { waitForBackgroundWork } from '../background-work';

// The kernels scripts/install-kernels.sh unpacked (under the cache home setup ran with); the initramfs and the
// vmlinux.h files this run makes go to a throw-away cache home, removed at the end.
process.env.EBPF_STUDIO_KERNELS ??= kernelCacheRoot();
const cacheHome = mkdtempSync(join(tmpdir(), 'ebpf-kernel-matrix-'));
process.env.XDG_CACHE_HOME = cacheHome;
process.on('exit', () => {
  waitForBackgroundWork(cacheHome);
  rmSync(cacheHome, { recursive: true, force: true });
});

function missing(): string | undefined {
  const base = missingPrerequisite();
  if (base) return base;
  for (const tool of ['qemu-system-x86_64', 'busybox']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} (bash scripts/setup.sh)`;
    }
  }
  const releases = cachedKernels().map((k) => k.release);
  for (const series of ['6.1.', '6.12.']) {
    if (!releases.some((r) => r.startsWith(series))) return `a ${series.slice(0, -1)} kernel in ${process.env.EBPF_STUDIO_KERNELS} (bash scripts/install-kernels.sh)`;
  }
  return undefined;
}

const absent = missing();
if (absent && process.env.CI === 'true') throw new Error(`the kernel matrix test needs ${absent}`);
const skip = absent ? `needs ${absent}` : false;

const cookieProbe = join(repoRoot, 'test', 'fixtures', 'kernel-matrix', 'switch-cookies.bpf.c');
const bootstrap = join(repoRoot, '..', 'shared', 'realworld', 'libbpf-bootstrap', 'bootstrap.bpf.c');
/** 0-based line of the bpf_get_attach_cookie() call. */
const cookieLine = readFileSync(cookieProbe, 'utf8').split('\n').findIndex((l) => l.includes('bpf_get_attach_cookie(ctx)'));

interface FileResult {
  file: string;
  diagnostics: Diagnostic[];
  verdicts?: KernelVerdict[];
}

function processAlive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

test('one probe, three kernels: 6.1 rejects the raw_tp cookie call on its line, 6.12 and this kernel accept; nothing left running', { skip, timeout: 900_000 }, async (t) => {
  const agent = await buildTestAgent();
  t.after(() => agent.remove());
  process.env.EBPF_STUDIO_AGENT = agent.path;
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const code = await runCheckCommand(['--kernel', '6.1', '--verify', '--target', 'kernel:6.1', '--target', 'kernel:6.12', '--target', 'local', '--format', 'json', cookieProbe, bootstrap], out, err);
  const stderr = Buffer.concat(chunks.err).toString();
  assert.equal(code, 1, stderr);
  const results = JSON.parse(Buffer.concat(chunks.out).toString()) as FileResult[];

  // Per kernel: each target's own release and verdict, the rejection's line and the kernel's log.
  const cookies = results.find((r) => r.file === cookieProbe);
  assert.ok(cookies?.verdicts, JSON.stringify(results).slice(0, 500));
  const [v61, v612, local] = cookies.verdicts;
  assert.deepEqual(cookies.verdicts.map((v) => v.target), ['kernel:6.1', 'kernel:6.12', 'local']);
  assert.match(v61.kernelRelease, /^6\.1\.\d+-\d+-cloud-amd64$/);
  assert.match(v612.kernelRelease, /^6\.12\.\d+/);
  assert.equal(local.kernelRelease, execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
  assert.deepEqual([v61.verdict, v612.verdict, local.verdict], ['rejected', 'accepted', 'accepted']);
  assert.equal(v61.programs[0].line, cookieLine + 1);
  assert.match(v61.programs[0].log ?? '', /unknown func bpf_get_attach_cookie#174/);

  // One diagnostic on that line naming who rejects and who accepts.
  const verifier = cookies.diagnostics.filter((d) => d.source === 'verifier');
  assert.equal(verifier.length, 1, JSON.stringify(verifier));
  assert.equal(verifier[0].range.start.line, cookieLine);
  assert.match(String(verifier[0].message), new RegExp(`\\(rejected by 6\\.1; accepted by 6\\.12, ${local.label.replace('.', '\\.')}\\)$`));
  assert.deepEqual((verifier[0].data as MatrixDiagnosticData).rejectedBy.map((r) => r.target), ['kernel:6.1']);

  // The static tier, told the target is 6.1, flags the same line; told 6.12, it flags nothing (as 6.12 accepts).
  const staticFindings = cookies.diagnostics.filter((d) => d.source === 'ebpf-studio' && d.code === 'helper-not-allowed');
  assert.deepEqual(staticFindings.map((d) => d.range.start.line), [cookieLine]);
  const at612 = await checkText(readFileSync(cookieProbe, 'utf8'), cookieProbe, parseKernelVersion('6.12')!);
  assert.deepEqual(at612.filter((d) => d.code === 'helper-not-allowed'), []);

  // The second file ran on the same booted VMs: a CO-RE probe built against each kernel's own BTF.
  const boot = results.find((r) => r.file === bootstrap);
  assert.deepEqual(boot?.verdicts?.map((v) => v.verdict), ['accepted', 'accepted', 'accepted']);
  assert.equal((stderr.match(/booted \(/g) ?? []).length, 2, 'each kernel booted once');
  assert.match(stderr, /\[kernel:6\.1\] vmlinux\.h: .*(generated|only the types the probe names).*6\.1\.\d+-\d+-cloud-amd64/);

  // Every QEMU the run started has exited.
  const pids = [...stderr.matchAll(/QEMU pid (\d+)/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 2);
  for (let waited = 0; pids.some(processAlive) && waited < 10_000; waited += 100) await new Promise<void>((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(pids.filter(processAlive), []);
});
