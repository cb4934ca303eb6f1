// The precompiled vmlinux.h (engine/toolchain/vmlinux-pch.ts) with the real clang and this kernel's BTF: built once by one
// background builder (a second finds its lock; a dead builder's lock is taken over), then found; the object's code and BTF types equal a plain compile's; a probe that defines something before including
// vmlinux.h never uses it; a precompiled header clang refuses is dropped and the compile still succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { elfSection } from '../../../engine/btf/elf-sections';
import { parseBtf, typeName } from '../../../engine/btf/btf-types';
import { compileProbe, probeCodegenFlags } from '../../../engine/toolchain/compile-probe';
import { findClang } from '../../../engine/toolchain/find-clang';
import { provideLocalVmlinuxHeader } from '../../../engine/toolchain/vmlinux-header';
import { builtPrecompiledVmlinux, includesVmlinuxFirst, precompileLockPath, precompileVmlinuxInBackground } from '../../../engine/toolchain/vmlinux-pch';
import { repoRoot, skipUnlessReady } from './agent-under-test';

const skip = skipUnlessReady('precompiled vmlinux.h tests');
const RUNQLEN = resolve(repoRoot, '..', 'shared', 'realworld', 'libbpf-tools', 'runqlen.bpf.c');

/** Every BTF type of an object as its kind and full name (members' types named too), sorted: ids aside, what the BTF says. */
function btfTypes(object: Uint8Array): string[] {
  const section = elfSection(object, '.BTF');
  assert.ok(section);
  const btf = parseBtf(section);
  const described: string[] = [];
  for (let id = 1; id <= btf.lastId; id++) {
    const type = btf.type(id);
    const members = 'members' in type ? type.members.map((m) => `${m.name}:${typeName(btf, m.type)}@${m.bitOffset}`).join(',') : '';
    described.push(`${type.kind} ${typeName(btf, id)} ${members}`);
  }
  return described.sort();
}

test('includesVmlinuxFirst: only comments and blank lines may come before the include', () => {
  assert.equal(includesVmlinuxFirst('// SPDX-License-Identifier: GPL-2.0\n/* Copyright\n * x */\n\n#include <vmlinux.h>\n#include <bpf/bpf_helpers.h>\n'), true);
  assert.equal(includesVmlinuxFirst('#include "vmlinux.h"\n'), true);
  assert.equal(includesVmlinuxFirst('#define BPF_NO_PRESERVE_ACCESS_INDEX\n#include "vmlinux.h"\n'), false);
  assert.equal(includesVmlinuxFirst('#include <linux/bpf.h>\n#include "vmlinux.h"\n'), false);
  assert.equal(includesVmlinuxFirst('int x;\n'), false);
});

test('a probe that includes vmlinux.h first compiles through the precompiled header, to the same code and BTF', { skip, timeout: 180_000 }, async () => {
  const source = existsSync(RUNQLEN) ? RUNQLEN : join(repoRoot, 'test', 'fixtures', 'verifier-probes', 'accepted-vmlinux.bpf.c');
  const cache = mkdtempSync(join(os.tmpdir(), 'ebpf-studio-pch-'));
  try {
    const clang = await findClang();
    const machine = os.machine();
    const vmlinux = await provideLocalVmlinuxHeader([dirname(source)], cache);
    const flags = probeCodegenFlags({ machine });
    const text = readFileSync(source, 'utf8');
    assert.ok(includesVmlinuxFirst(text), `${source} includes vmlinux.h first`);
    const compile = (precompiledHeader?: string) => compileProbe({ sourcePath: source, clang, machine, vmlinuxDir: dirname(vmlinux.path), ...(precompiledHeader ? { precompiledHeader } : {}) });

    const plain = await compile();
    assert.equal(builtPrecompiledVmlinux(clang, vmlinux.path, flags, text), undefined, 'nothing built yet');
    const building = precompileVmlinuxInBackground(clang, vmlinux.path, flags, text, true);
    assert.equal(await precompileVmlinuxInBackground(clang, vmlinux.path, flags, text, true), undefined, 'one builder at a time: the second finds the lock');
    const pch = await building;
    assert.ok(pch && existsSync(pch), 'the precompiled header is built');
    assert.equal(builtPrecompiledVmlinux(clang, vmlinux.path, flags, text), pch);
    assert.deepEqual(readdirSync(dirname(pch)), [basename(pch)], 'no lock or partial file left');
    const built = statSync(pch).mtimeMs;
    assert.equal(await precompileVmlinuxInBackground(clang, vmlinux.path, flags, text, true), pch);
    assert.equal(statSync(pch).mtimeMs, built, 'found, not built again');
    const withPch = await compile(pch);
    assert.ok(withPch.command.includes('-include-pch') && withPch.object, withPch.stderr);
    assert.ok(plain.object);
    // clang orders the BTF types another way (so ids differ), but the types are the same ones.
    assert.deepEqual(btfTypes(withPch.object), btfTypes(plain.object));
    assert.deepEqual(elfSection(withPch.object, '.maps'), elfSection(plain.object, '.maps'));
    const programSections = [...new Set((text.match(/SEC\("([^"]+)"\)/g) ?? []).map((m) => m.slice(5, -2)))].filter((s) => s !== '.maps' && s !== 'license');
    assert.ok(programSections.length > 0);
    for (const section of programSections) assert.deepEqual(elfSection(withPch.object, section), elfSection(plain.object, section), `${section}: same instructions`);

    // Other flags (a -D) make another precompiled header, not a clash with this one.
    const other = await precompileVmlinuxInBackground(clang, vmlinux.path, probeCodegenFlags({ machine, defines: ['X=1'] }), text, true);
    assert.ok(other && other !== pch);
    assert.equal(readdirSync(dirname(pch)).filter((f) => f.endsWith('.pch')).length, 2);

    // A precompiled header clang refuses is removed and the compile runs without it.
    writeFileSync(pch, 'not a precompiled header');
    const recovered = await compile(pch);
    assert.ok(recovered.object, recovered.stderr);
    assert.deepEqual(btfTypes(recovered.object), btfTypes(plain.object));
    assert.equal(existsSync(pch), false);

    // A probe that defines something before including vmlinux.h is never pre-included.
    assert.equal(await precompileVmlinuxInBackground(clang, vmlinux.path, flags, `#define BPF_NO_PRESERVE_ACCESS_INDEX\n${text}`, true), undefined);

    // A dead builder's lock (older than a build can take) is taken over.
    rmSync(other, { force: true });
    writeFileSync(precompileLockPath(other), '1\n');
    utimesSync(precompileLockPath(other), new Date(0), new Date(0));
    assert.equal(await precompileVmlinuxInBackground(clang, vmlinux.path, probeCodegenFlags({ machine, defines: ['X=1'] }), text, true), other);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
