// vmlinux.h from a target that lies: the cache folder is named by the sha256 of the BTF computed here (never by what
// the target says), and a type name that would add a directive to the header is sanitized. Uses bpftool on this kernel's BTF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { provideVmlinuxHeader } from '../../../engine/toolchain/vmlinux-header';
import { skipUnlessReady } from './agent-under-test';

const skip = skipUnlessReady();

/** This kernel's BTF with the name "task_struct" replaced by a same-length name that is a preprocessor line. */
function poisonedBtf(): Buffer {
  const btf = Buffer.from(readFileSync('/sys/kernel/btf/vmlinux'));
  const at = btf.indexOf(Buffer.from('\0task_struct\0'));
  assert.ok(at > 0, 'the BTF names task_struct');
  btf.write('x\n#error xx', at + 1, 'latin1');
  return btf;
}

test('a target cannot pick the vmlinux.h cache folder nor add lines to the header through BTF names', { skip, timeout: 180_000 }, async () => {
  const cacheRoot = mkdtempSync(join(os.tmpdir(), 'ebpf-vmlinux-'));
  const outside = join(cacheRoot, '..', `escaped-${process.pid}`);
  try {
    const btf = poisonedBtf();
    const localSha = createHash('sha256').update(btf).digest('hex');
    const header = await provideVmlinuxHeader([], { knownSha256: `../escaped-${process.pid}`, fetchBtf: async () => btf }, join(cacheRoot, 'vmlinux'));
    assert.equal(existsSync(outside), false, 'nothing was written outside the cache');
    assert.equal(header.path, join(cacheRoot, 'vmlinux', localSha, 'vmlinux.h'));
    assert.deepEqual(readdirSync(join(cacheRoot, 'vmlinux')), [localSha]);
    const text = readFileSync(header.path, 'utf8');
    assert.doesNotMatch(text, /^#error/m, 'the name did not become a directive');
    assert.match(text, /^struct x__error xx \{/m, 'the sanitized name is in the header');
    assert.equal(dirname(header.path), join(cacheRoot, 'vmlinux', localSha));
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});
