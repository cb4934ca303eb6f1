// The const volatile globals of a compiled probe (engine/btf/object-globals: BTF .rodata and its bytes) with their
// comments from the source (server/src/features/probe-globals, what ebpfStudio/globals answers), and typed checking.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { objectGlobals, parseGlobalValue, type ObjectGlobal } from '../../engine/btf/object-globals';
import { parseProbeFile } from '../../server/src/analysis/probe-document';
import { probeGlobals } from '../../server/src/features/probe-globals';
import { runningKernelVersion } from '../../server/src/kernel/kernel-version';

const CLANG = '/usr/bin/clang-19';
const SOURCE = `typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef _Bool bool;
enum count_mode { COUNT_CALLS = 0, COUNT_PROCESSES = 1 };

/* Count only this process (its tgid); 0 counts every process. */
const volatile __u32 target_tgid = 42;
// What a call adds
// to the count.
const volatile __u64 increment = 18446744073709551615ULL;
const volatile bool count_enabled = 1;	/* false: the handlers return at once */
const volatile enum count_mode mode = COUNT_PROCESSES;
const volatile signed char delta = -3;

/*
 * A label kept in .rodata
 */
const volatile char label[8] = "calls";
int not_a_global_of_rodata = 3;
static const volatile int file_static = 5;

__attribute__((section("tracepoint/syscalls/sys_enter_getppid"), used))
int prog(void *ctx) { static const volatile int zero = 0; return target_tgid + increment + count_enabled + mode + label[0] + delta + file_static + zero; }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
`;

let dir = '';
let globals: ObjectGlobal[] = [];
const skip = existsSync(CLANG) ? false : process.env.CI === 'true' ? false : 'clang-19 missing';

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'object-globals-'));
  writeFileSync(join(dir, 'g.bpf.c'), SOURCE);
  execFileSync(CLANG, ['-g', '-O2', '-target', 'bpf', '-c', join(dir, 'g.bpf.c'), '-o', join(dir, 'g.o')]);
  globals = objectGlobals(new Uint8Array(readFileSync(join(dir, 'g.o'))));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const named = (name: string) => globals.find((g) => g.name === name) as ObjectGlobal;

test('lists every .rodata global with its declared type, kind and compiled-in default', { skip }, () => {
  assert.deepEqual(
    globals.map((g) => [g.name, g.type, g.kind, g.size, g.defaultValue]),
    [
      ['target_tgid', '__u32', 'integer', 4, 42],
      ['increment', '__u64', 'integer', 8, '18446744073709551615'],
      ['count_enabled', 'bool', 'bool', 1, true],
      ['mode', 'enum count_mode', 'enum', 4, 'COUNT_PROCESSES'],
      ['delta', 'signed char', 'integer', 1, -3],
      ['label', 'char[8]', 'text', 8, 'calls'],
    ].sort((a, b) => globals.findIndex((g) => g.name === a[0]) - globals.findIndex((g) => g.name === b[0])),
  );
  assert.ok(!globals.some((g) => g.name === 'not_a_global_of_rodata'), '.data globals are not set through this flow');
  assert.ok(!globals.some((g) => /file_static|zero/.test(g.name)), `static .rodata variables are no parameters: ${globals.map((g) => g.name).join(', ')}`);
});

test('checks a typed value: ranges by size and sign, bools, enum names, text that fits with its NUL', { skip }, () => {
  assert.deepEqual(parseGlobalValue(named('target_tgid'), '4294967295'), { value: '4294967295' });
  assert.match((parseGlobalValue(named('target_tgid'), '4294967296') as { error: string }).error, /unsigned 32-bit.*outside 0…4294967295/);
  assert.match((parseGlobalValue(named('target_tgid'), '-1') as { error: string }).error, /outside/);
  assert.match((parseGlobalValue(named('target_tgid'), '12abc') as { error: string }).error, /whole number/);
  assert.deepEqual(parseGlobalValue(named('target_tgid'), '0x10'), { value: '16' });
  assert.deepEqual(parseGlobalValue(named('delta'), '-128'), { value: '-128' });
  assert.match((parseGlobalValue(named('delta'), '128') as { error: string }).error, /signed 8-bit/);
  assert.deepEqual(parseGlobalValue(named('increment'), '18446744073709551615'), { value: '18446744073709551615' });
  assert.deepEqual(parseGlobalValue(named('count_enabled'), 'false'), { value: false });
  assert.match((parseGlobalValue(named('count_enabled'), 'maybe') as { error: string }).error, /bool/);
  assert.deepEqual(parseGlobalValue(named('mode'), 'COUNT_CALLS'), { value: '0' });
  assert.deepEqual(parseGlobalValue(named('mode'), '1'), { value: '1' });
  assert.match((parseGlobalValue(named('mode'), 'COUNT_BYTES') as { error: string }).error, /COUNT_CALLS, COUNT_PROCESSES/);
  assert.deepEqual(parseGlobalValue(named('label'), 'seven77'), { value: 'seven77' });
  assert.match((parseGlobalValue(named('label'), 'eight888') as { error: string }).error, /at most 7 bytes/);
});

test('an object without .rodata has no globals to set', { skip }, () => {
  writeFileSync(join(dir, 'plain.bpf.c'), 'int x;\n__attribute__((section("xdp"), used)) int p(void *c) { return 2; }\nchar L[] __attribute__((section("license"), used)) = "GPL";\n');
  execFileSync(CLANG, ['-g', '-O2', '-target', 'bpf', '-c', join(dir, 'plain.bpf.c'), '-o', join(dir, 'plain.o')]);
  assert.deepEqual(objectGlobals(new Uint8Array(readFileSync(join(dir, 'plain.o')))), []);
});

test('the source gives each const volatile global the comment above it, or the one after it on its line', async () => {
  const found = probeGlobals(await parseProbeFile(SOURCE, { targetKernel: runningKernelVersion() }));
  assert.deepEqual(
    found.map((g) => [g.name, g.comment]),
    [
      ['target_tgid', 'Count only this process (its tgid); 0 counts every process.'],
      ['increment', 'What a call adds to the count.'],
      ['count_enabled', 'false: the handlers return at once'],
      ['mode', ''],
      ['delta', ''],
      ['label', 'A label kept in .rodata'],
    ],
  );
  const lines = SOURCE.split('\n');
  for (const g of found) assert.match(lines[g.line], new RegExp(`\\b${g.name}\\b`));
});
