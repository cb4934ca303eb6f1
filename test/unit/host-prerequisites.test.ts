// What the prerequisites check tells the user about a host that cannot run the agent: each missing piece with
// how to install it for the host's distribution, sudo advice for non-root users, BTF as a warning only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPrerequisites, type HostFacts } from '../../engine/targets/host-prerequisites';

const ready: HostFacts = {
  uid: 0, user: 'root', home: '/root', machine: 'x86_64', kernelRelease: '6.1.0-18-amd64', nodePath: '/usr/bin/node', nodeVersion: 'v20.11.0',
  libbpfPath: '/lib/x86_64-linux-gnu/libbpf.so.1', bpfSyscall: true, btf: true, sudo: false, osId: 'debian', musl: false, cachedDirs: [],
};
const machines = ['x86_64', 'aarch64'];

test('a ready host passes with nothing missing', () => {
  assert.deepEqual(checkPrerequisites(ready, machines), { ok: true, missing: [], warnings: [] });
});

test('missing node, libbpf and BPF syscall are each named with the install command of the distribution', () => {
  const report = checkPrerequisites({ ...ready, nodePath: undefined, nodeVersion: undefined, libbpfPath: undefined, bpfSyscall: false }, machines);
  assert.equal(report.ok, false);
  assert.equal(report.missing.length, 3);
  assert.match(report.missing.join('\n'), /CONFIG_BPF_SYSCALL/);
  assert.match(report.missing.join('\n'), /`sudo apt-get install nodejs`/);
  assert.match(report.missing.join('\n'), /`sudo apt-get install libbpf1`/);
  const fedora = checkPrerequisites({ ...ready, libbpfPath: undefined, osId: 'fedora' }, machines);
  assert.match(fedora.missing[0], /`sudo dnf install libbpf`/);
});

test('an old node is named with its version', () => {
  const report = checkPrerequisites({ ...ready, nodeVersion: 'v16.20.2' }, machines);
  assert.match(report.missing[0], /Node\.js v16\.20\.2 .* too old; the agent needs Node ≥ 18/);
});

test('a non-root user without passwordless sudo gets the sudoers line to add', () => {
  const report = checkPrerequisites({ ...ready, uid: 1000, user: 'ops', home: '/home/ops', sudo: false }, machines);
  assert.match(report.missing[0], /User ops is not root and `sudo -n` asks for a password/);
  assert.match(report.missing[0], /ops ALL=\(root\) NOPASSWD: \/usr\/bin\/node \/home\/ops\/\.cache\/ebpf-studio\/agent\/\*\/agent\.js/);
  assert.equal(checkPrerequisites({ ...ready, uid: 1000, user: 'ops', sudo: true }, machines).ok, true);
});

test('an unsupported CPU or musl libc is refused; a kernel without BTF is only a warning', () => {
  assert.match(checkPrerequisites({ ...ready, machine: 'riscv64' }, machines).missing[0], /this host is riscv64/);
  assert.match(checkPrerequisites({ ...ready, musl: true }, machines).missing[0], /with musl/);
  const noBtf = checkPrerequisites({ ...ready, btf: false }, machines);
  assert.equal(noBtf.ok, true);
  assert.match(noBtf.warnings[0], /CONFIG_DEBUG_INFO_BTF/);
});
