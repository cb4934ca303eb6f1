// The compile command clangd gets for a probe: the user's compile_commands.json is honoured when it lists the
// file (found like clangd finds it, build/ included); otherwise eBPF Studio's flags, driver first and -c last.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseLists, governingCompilationDatabase, probeCompileCommand } from '../../engine/toolchain/compilation-database';
import { probeCompileFlags } from '../../engine/toolchain/compile-probe';

test('the nearest compile_commands.json (or its build/) governs a probe, and lists it only when an entry names it', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ebpf-studio-cdb-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const probe = join(root, 'src', 'bpf', 'probe.bpf.c');
  mkdirSync(join(root, 'src', 'bpf'), { recursive: true });
  writeFileSync(probe, '');
  assert.equal(governingCompilationDatabase(probe), undefined);

  mkdirSync(join(root, 'build'));
  const database = join(root, 'build', 'compile_commands.json');
  writeFileSync(database, JSON.stringify([{ directory: join(root, 'src'), file: 'user.c', command: 'cc -c user.c' }]));
  assert.equal(governingCompilationDatabase(probe), database);
  assert.equal(databaseLists(database, probe), false, 'a database of the user-space code does not speak for the probe');

  writeFileSync(database, JSON.stringify([{ directory: join(root, 'src'), file: 'bpf/probe.bpf.c', arguments: ['clang', '-target', 'bpf', '-c', 'bpf/probe.bpf.c'] }]));
  assert.equal(databaseLists(database, probe), true);
  writeFileSync(database, '{ not json');
  assert.equal(databaseLists(database, probe), false);
});

test('the command clangd gets is the one eBPF Studio compiles with', () => {
  const flags = probeCompileFlags({ machine: 'x86_64', includePaths: ['/opt/inc'], vmlinuxDir: '/cache/vmlinux/abc' });
  const command = probeCompileCommand('/work/p/probe.bpf.c', '/usr/bin/clang-19', flags);
  assert.equal(command.workingDirectory, '/work/p');
  assert.deepEqual(command.compilationCommand.slice(0, 1), ['/usr/bin/clang-19']);
  assert.deepEqual(command.compilationCommand.slice(-2), ['-c', '/work/p/probe.bpf.c']);
  for (const flag of ['-target', 'bpf', '-D__TARGET_ARCH_x86', '-I/opt/inc', '-I/cache/vmlinux/abc']) assert.ok(command.compilationCommand.includes(flag), `${flag} in ${command.compilationCommand.join(' ')}`);
});
