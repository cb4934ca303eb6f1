// What the prerequisites check tells the user about a host that cannot run the agent: each missing piece with how to
// install it for the host's distribution and release, when the host's Node is used, sudo and sudoers advice, BTF as a warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPrerequisites, hostNodeSuitable, libbpfAdvice, privilegeOf, type HostFacts } from '../../engine/targets/host-prerequisites';

const ready: HostFacts = {
  uid: 0, user: 'root', home: '/root', machine: 'x86_64', kernelRelease: '6.1.0-18-amd64', nodePath: '/usr/bin/node', nodeVersion: 'v20.11.0', nodeRootOwned: true,
  glibcVersion: '2.36', libbpfPath: '/usr/lib/x86_64-linux-gnu/libbpf.so.1.1.2', bpfSyscall: true, btf: true, sudoPresent: true, sudo: false, sudoLauncher: false,
  osId: 'debian', osVersion: '12', musl: false, installedDirs: [], runtimeInstalled: [],
};
const machines = ['x86_64', 'aarch64'];

test('a ready host passes with nothing missing', () => {
  assert.deepEqual(checkPrerequisites(ready, machines), { ok: true, missing: [], warnings: [] });
});

test('no Node is not a blocker (the runtime is brought) unless glibc is older than the runtime needs', () => {
  const noNode = { ...ready, nodePath: undefined, nodeVersion: undefined };
  assert.equal(checkPrerequisites(noNode, machines).ok, true);
  assert.equal(hostNodeSuitable(noNode), false);
  const oldGlibc = checkPrerequisites({ ...noNode, glibcVersion: '2.17' }, machines);
  assert.match(oldGlibc.missing[0], /needs glibc ≥ 2\.28; this host has glibc 2\.17/);
  assert.equal(checkPrerequisites({ ...ready, glibcVersion: '2.17' }, machines).ok, true, "the host's own Node needs no newer glibc");
});

test("a Node the login's user could replace, or an old one, is not run as root: the runtime is used and the log says why", () => {
  const userNode = { ...ready, nodePath: '/home/ops/.nvm/versions/node/v20/bin/node', nodeRootOwned: false };
  assert.equal(hostNodeSuitable(userNode), false);
  assert.match(checkPrerequisites(userNode, machines).warnings[0], /not owned by root; the agent runs on the Node\.js runtime/);
  assert.equal(hostNodeSuitable({ ...ready, nodeVersion: 'v16.20.2' }), false);
});

test('missing libbpf and BPF syscall are each named with what to install for the distribution and release', () => {
  const report = checkPrerequisites({ ...ready, libbpfPath: undefined, bpfSyscall: false }, machines);
  assert.equal(report.ok, false);
  assert.equal(report.missing.length, 2);
  assert.match(report.missing.join('\n'), /CONFIG_BPF_SYSCALL/);
  assert.match(report.missing.join('\n'), /`sudo apt-get install libbpf1`/);
  assert.match(checkPrerequisites({ ...ready, libbpfPath: undefined, osId: 'fedora', osVersion: '40' }, machines).missing[0], /`sudo dnf install libbpf`/);
  const old = checkPrerequisites({ ...ready, libbpfPath: '/usr/lib/x86_64-linux-gnu/libbpf.so.0.5.0', osId: 'ubuntu', osVersion: '22.04' }, machines);
  assert.match(old.missing[0], /Only .*libbpf\.so\.0\.5\.0 \(libbpf 0\.x\)/);
  assert.match(old.missing[0], /ubuntu 22\.04 packages only libbpf 0\.x; .* upgrade to Ubuntu 24\.04/);
  assert.match(libbpfAdvice('ubuntu', '24.04'), /apt-get install libbpf1/);
  assert.match(libbpfAdvice('debian', '11'), /upgrade to Debian 12/);
  assert.match(libbpfAdvice('rocky', '8.9'), /upgrade to rocky 9/);
  assert.match(libbpfAdvice('opensuse-leap', '15.5'), /zypper install libbpf1/);
});

test('privilege: root, sudo without password, sudo for the launcher only, sudo with a password, none', () => {
  const ops = { ...ready, uid: 1000, user: 'ops', home: '/home/ops' };
  assert.equal(privilegeOf(ready, undefined), 'root');
  assert.equal(privilegeOf({ ...ops, sudo: true }, undefined), 'sudo');
  assert.equal(privilegeOf({ ...ops, sudoLauncher: true, installedDirs: ['v1'] }, 'v1'), 'sudo-launcher');
  assert.equal(privilegeOf({ ...ops, sudoLauncher: true, installedDirs: ['v1'] }, 'v2'), 'sudo-password', 'a new version must be installed by root first');
  assert.equal(privilegeOf(ops, undefined), 'sudo-password');
  const none = checkPrerequisites({ ...ops, sudoPresent: false }, machines);
  assert.match(none.missing[0], /User ops is not root and the host has no sudo/);
  assert.match(none.missing[0], /`ops ALL=\(root\) NOPASSWD: \/var\/lib\/ebpf-studio\/agent\/\*\/run-agent`/);
  assert.match(none.missing[0], /CAP_BPF with CAP_PERFMON/);
});

test('an unsupported CPU or musl libc is refused; a kernel without BTF is only a warning', () => {
  assert.match(checkPrerequisites({ ...ready, machine: 'riscv64' }, machines).missing[0], /this host is riscv64/);
  assert.match(checkPrerequisites({ ...ready, musl: true }, machines).missing[0], /with musl/);
  const noBtf = checkPrerequisites({ ...ready, btf: false }, machines);
  assert.equal(noBtf.ok, true);
  assert.match(noBtf.warnings[0], /CONFIG_DEBUG_INFO_BTF/);
});
