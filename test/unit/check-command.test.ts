// `ebpf-studio check` as users run it (the built dist/cli.js): JSON and text output, exit status
// 0/1/2, --kernel, and clear messages for missing files and bad options.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(__dirname, '../../dist/cli.js');
let dir: string;

const GOOD = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
SEC("tp/syscalls/sys_enter_openat")
int on_open(void *ctx)
{
	bpf_printk("open");
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
const RINGBUF = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");
char LICENSE[] SEC("license") = "GPL";
`;

function run(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30000 });
}

before(() => {
  assert.ok(existsSync(CLI), `${CLI} does not exist: run npm run build first`);
  dir = mkdtempSync(join(tmpdir(), 'ebpf-check-'));
  writeFileSync(join(dir, 'good.bpf.c'), GOOD);
  writeFileSync(join(dir, 'bad.bpf.c'), GOOD.replace('char LICENSE[] SEC("license") = "GPL";\n', ''));
  writeFileSync(join(dir, 'ringbuf.bpf.c'), RINGBUF);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('a clean file exits 0', () => {
  const result = run('check', '--kernel', '6.1', join(dir, 'good.bpf.c'));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /1 file checked: 0 errors, 0 warnings/);
});

test('errors exit 1; --format json prints LSP diagnostics per file', () => {
  const result = run('check', '--format', 'json', join(dir, 'bad.bpf.c'), join(dir, 'good.bpf.c'));
  assert.equal(result.status, 1, result.stderr);
  const report = JSON.parse(result.stdout) as { file: string; diagnostics: { range: { start: { line: number; character: number } }; severity: number; code: string; source: string; message: string }[] }[];
  assert.deepEqual(report.map((r) => r.file), [join(dir, 'bad.bpf.c'), join(dir, 'good.bpf.c')]);
  const error = report[0].diagnostics.find((d) => d.severity === 1);
  assert.ok(error);
  assert.deepEqual(error.range.start, { line: 5, character: 1 });
  assert.equal(error.code, 'license-missing');
  assert.equal(error.source, 'ebpf-studio');
  assert.match(error.message, /the verifier says: "cannot call GPL-restricted function from non-GPL compatible program"/);
  assert.deepEqual(report[1].diagnostics, []);
});

test('text output names file:line:col, severity and rule', () => {
  const result = run('check', join(dir, 'bad.bpf.c'));
  assert.equal(result.status, 1);
  assert.match(result.stdout, /bad\.bpf\.c:6:2: error: bpf_printk \(bpf_trace_printk\) is GPL-only .* \[license-missing\]/);
});

test('--kernel drives the version rules', () => {
  assert.equal(run('check', '--kernel', '5.8', join(dir, 'ringbuf.bpf.c')).status, 0);
  const old = run('check', '--kernel', '5.4', '--format', 'json', join(dir, 'ringbuf.bpf.c'));
  assert.equal(old.status, 1);
  assert.equal(JSON.parse(old.stdout)[0].diagnostics[0].code, 'map-type-newer-than-kernel');
});

test('a missing file, a bad option or no file exits 2 with a message', () => {
  const missing = run('check', join(dir, 'nope.bpf.c'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read .*nope\.bpf\.c: no such file/);
  assert.equal(missing.stdout, '');
  const badKernel = run('check', '--kernel', 'latest', join(dir, 'good.bpf.c'));
  assert.equal(badKernel.status, 2);
  assert.match(badKernel.stderr, /--kernel "latest" is not a kernel version/);
  const badFormat = run('check', '--format', 'xml', join(dir, 'good.bpf.c'));
  assert.equal(badFormat.status, 2);
  assert.match(badFormat.stderr, /--format is text or json/);
  const unknown = run('check', '--frobnicate', join(dir, 'good.bpf.c'));
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--frobnicate'/);
  const none = run('check');
  assert.equal(none.status, 2);
  assert.match(none.stderr, /No FILE given/);
  const directory = run('check', dir);
  assert.equal(directory.status, 2);
  assert.match(directory.stderr, /is a directory/);
  const command = run('frobnicate');
  assert.equal(command.status, 2);
  assert.match(command.stderr, /unknown command "frobnicate"/);
});

test('binary garbage is refused as not C source (it was checked and said "0 errors"), with nothing on stdout', () => {
  const garbage = join(dir, 'garbage.bpf.c');
  writeFileSync(garbage, Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919 + 13) % 256)));
  const result = run('check', '--format', 'json', garbage);
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /^ebpf-studio check: cannot read .*garbage\.bpf\.c: not C source text/);
  assert.equal(result.stdout, '');
});

test('--help prints the usage on stdout and exits 0', () => {
  const help = run('check', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: ebpf-studio check \[--kernel X\.Y\] \[--format text\|json\] \[-I DIR\]\.\.\. FILE\.\.\./);
  assert.equal(help.stderr, '');
});
