// Compiles one corpus probe with clang and loads it through this machine's kernel verifier, returning the
// kernel's verdict, final message and the source line it names. Talks to clang-19, bpftool and /sys/kernel/btf.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, release, arch } from 'node:os';
import { basename, join, resolve } from 'node:path';

export type KernelVerdict = 'accepted' | 'rejected' | 'compile-error';

export interface ProbeVerdict {
  verdict: KernelVerdict;
  /** The verifier's (or clang's) final message; empty when accepted. */
  message: string;
  /** 1-based line of the probe the kernel (or clang) names; absent when accepted or when none is named. */
  line?: number;
}

export const corpusDir = resolve(__dirname, '../test/fixtures/corpus');
export const expectedPath = join(corpusDir, 'expected.json');

const clang = process.env.EBPF_STUDIO_CLANG ?? 'clang-19';

/** Generates vmlinux.h for the running kernel once, into a cache folder outside git, and returns that folder. */
export function vmlinuxIncludeDir(): string {
  const dir = resolve(__dirname, '../.cache/vmlinux', release());
  const header = join(dir, 'vmlinux.h');
  if (!existsSync(header)) {
    mkdirSync(dir, { recursive: true });
    const text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    writeFileSync(header + '.tmp', text);
    execFileSync('mv', [header + '.tmp', header]);
  }
  return dir;
}

const instructionLine = /^\d+: (\(|R\d|frame)/;
const bookkeepingLine =
  /^(; |mark_precise|verification time|stack depth|processed \d+ insns|from \d+ to \d+|func#|Live regs|\s+\d+: |Validating |arg#\d|last_idx|parent|frame\d|Func#|\(\d+\) |\s*$)/;

/** Picks the kernel's final complaint and the last probe line it annotated before it. */
export function parseVerifierLog(log: string, probeName: string): { message: string; line?: number } {
  const lines = log.split('\n');
  let end = lines.findIndex((l) => l.startsWith('verification time') || l.startsWith('processed '));
  if (end < 0) end = lines.length;
  const isMessage = (l: string) => !instructionLine.test(l) && !bookkeepingLine.test(l);
  let last = end - 1;
  while (last >= 0 && !isMessage(lines[last])) last--;
  if (last < 0) return { message: '' };
  let messageIndex = last;
  while (messageIndex > 0 && isMessage(lines[messageIndex - 1])) messageIndex--;
  const message = lines.slice(messageIndex, last + 1).map((l) => l.trim()).join(' ');
  const annotation = new RegExp(`@ ${probeName.replace(/[.]/g, '\\.')}:(\\d+)\\s*$`);
  for (let i = messageIndex; i >= 0; i--) {
    const m = annotation.exec(lines[i]);
    if (m) return { message, line: Number(m[1]) };
  }
  return { message };
}

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, collecting its output (asynchronously, so several probes verify at once). */
function run(command: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
  });
}

function runSync(command: string, args: string[]): RunResult {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function compileArgs(sourcePath: string, includeDir: string, object: string): string[] {
  const multiarch = `${arch() === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`;
  return ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', `-I${includeDir}`, `-I/usr/include/${multiarch}`, '-c', sourcePath, '-o', object];
}

/** bpftool pins into a bpffs mounted in a private mount namespace: when bpftool exits, the pins and programs go. */
function loadArgs(pinRoot: string, object: string): string[] {
  return ['-m', '--propagation', 'private', '--', 'sh', '-c', 'mount -t bpf bpf "$1" && exec bpftool -d prog loadall "$2" "$1/progs"', 'sh', pinRoot, object];
}

function compileVerdict(compile: RunResult, probeName: string): ProbeVerdict {
  const error = compile.stderr.split('\n').find((l) => l.includes('error:')) ?? compile.stderr.trim();
  const located = /:(\d+):\d+: error: (.*)$/.exec(error);
  if (located && error.includes(probeName)) return { verdict: 'compile-error', message: located[2], line: Number(located[1]) };
  return { verdict: 'compile-error', message: error.replace(/^.*error: /, '') };
}

function loadVerdict(load: RunResult, probeName: string): ProbeVerdict {
  if (load.status === 0) return { verdict: 'accepted', message: '' };
  const output = `${load.stdout}\n${load.stderr}`;
  const logMatch = /BPF program load failed[^\n]*\n[^\n]*-- BEGIN PROG LOAD LOG --\n([\s\S]*?)-- END PROG LOAD LOG --/.exec(output);
  if (logMatch) {
    const parsed = parseVerifierLog(logMatch[1], probeName);
    if (parsed.message) return { verdict: 'rejected', ...parsed };
  }
  const libbpfError = output.split('\n').filter((l) => /^libbpf: .*(failed|error|Error)/.test(l)).at(0);
  return { verdict: 'rejected', message: (libbpfError ?? output.trim().split('\n').at(-1) ?? '').replace(/^libbpf: /, '') };
}

/** Compiles and verifies one probe, blocking. Nothing stays loaded or pinned. */
export function verifyProbe(sourcePath: string, includeDir: string): ProbeVerdict {
  const probeName = basename(sourcePath);
  const work = mkdtempSync(join(tmpdir(), 'ebpf-corpus-'));
  try {
    const object = join(work, probeName.replace(/\.c$/, '.o'));
    const compile = runSync(clang, compileArgs(sourcePath, includeDir, object));
    if (compile.status !== 0) return compileVerdict(compile, probeName);
    mkdirSync(join(work, 'bpffs'));
    return loadVerdict(runSync('unshare', loadArgs(join(work, 'bpffs'), object)), probeName);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** verifyProbe without blocking, so several probes compile and verify at once. */
export async function verifyProbeAsync(sourcePath: string, includeDir: string): Promise<ProbeVerdict> {
  const probeName = basename(sourcePath);
  const work = mkdtempSync(join(tmpdir(), 'ebpf-corpus-'));
  try {
    const object = join(work, probeName.replace(/\.c$/, '.o'));
    const compile = await run(clang, compileArgs(sourcePath, includeDir, object));
    if (compile.status !== 0) return compileVerdict(compile, probeName);
    return await loadWithBpftool(work, object, probeName);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** bpftool's verdict on an object compiled elsewhere (e.g. by the product), for `probeName`'s lines. Nothing stays loaded. */
export async function bpftoolVerdict(objectBytes: Buffer, probeName: string): Promise<ProbeVerdict> {
  const work = mkdtempSync(join(tmpdir(), 'ebpf-corpus-'));
  try {
    const object = join(work, probeName.replace(/\.c$/, '.o'));
    writeFileSync(object, objectBytes);
    return await loadWithBpftool(work, object, probeName);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function loadWithBpftool(work: string, object: string, probeName: string): Promise<ProbeVerdict> {
  mkdirSync(join(work, 'bpffs'));
  return loadVerdict(await run('unshare', loadArgs(join(work, 'bpffs'), object)), probeName);
}
