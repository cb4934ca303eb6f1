// Target names → SSH hosts: ssh:// URLs, user@host:port, settings entries and ~/.ssh/config aliases (HostName,
// User, Port, IdentityFile, ProxyJump), with command-line values winning over the config as in OpenSSH.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuredTargetNames, parseHostString, resolveTarget } from '../../engine/targets/target-address';

let dir: string;
let config: string;
let keyA: string;
let keyB: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-sshcfg-'));
  keyA = join(dir, 'id_a');
  keyB = join(dir, 'id_b');
  writeFileSync(keyA, 'not read by resolve');
  writeFileSync(keyB, 'not read by resolve');
  config = join(dir, 'config');
  writeFileSync(
    config,
    [
      'Host web1',
      '  HostName 10.0.0.5',
      '  User ops',
      '  Port 2200',
      `  IdentityFile ${keyA}`,
      '  ProxyJump bastion',
      'Host bastion',
      '  HostName bastion.example.org',
      '  User jump',
      'Host db-*',
      '  User dba',
      'Host *',
      `  IdentityFile ${keyB}`,
      '',
    ].join('\n'),
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('local and empty are the local target', () => {
  assert.deepEqual(resolveTarget('local', { sshConfigPath: config }), { kind: 'local', name: 'local' });
  assert.equal(resolveTarget('', { sshConfigPath: config }).kind, 'local');
});

test('an ~/.ssh/config alias brings HostName, User, Port, IdentityFile and a ProxyJump chain', () => {
  const spec = resolveTarget('web1', { sshConfigPath: config });
  assert.equal(spec.kind, 'ssh');
  if (spec.kind !== 'ssh') return;
  assert.equal(spec.host.host, '10.0.0.5');
  assert.equal(spec.host.user, 'ops');
  assert.equal(spec.host.port, 2200);
  assert.deepEqual(spec.host.identityFiles.slice(0, 2), [keyA, keyB]);
  assert.equal(spec.host.jumps.length, 1);
  assert.equal(spec.host.jumps[0].host, 'bastion.example.org');
  assert.equal(spec.host.jumps[0].user, 'jump');
  assert.equal(spec.host.jumps[0].port, 22);
});

test('ssh://user@host:port overrides the config; wildcard sections still apply', () => {
  const spec = resolveTarget('ssh://root@db-7:2222', { sshConfigPath: config, identity: keyB });
  if (spec.kind !== 'ssh') throw new Error('expected ssh');
  assert.equal(spec.host.user, 'root');
  assert.equal(spec.host.port, 2222);
  assert.equal(spec.host.host, 'db-7');
  assert.equal(spec.host.identityFiles[0], keyB, '--identity comes first');
  const bare = resolveTarget('db-7', { sshConfigPath: config });
  if (bare.kind !== 'ssh') throw new Error('expected ssh');
  assert.equal(bare.host.user, 'dba');
});

test('a settings entry resolves by name', () => {
  const spec = resolveTarget('lab', { sshConfigPath: config, settings: [{ name: 'lab', host: '192.0.2.9', user: 'me', port: 2022, identityFile: keyA }] });
  if (spec.kind !== 'ssh') throw new Error('expected ssh');
  assert.deepEqual([spec.host.host, spec.host.user, spec.host.port, spec.host.identityFiles[0]], ['192.0.2.9', 'me', 2022, keyA]);
});

test('host strings: IPv6 in brackets, bad ports and spaces are clear errors', () => {
  assert.deepEqual(parseHostString('ssh://u@[::1]:2222'), { host: '::1', user: 'u', port: 2222 });
  assert.throws(() => parseHostString('u@host:99999'), /port must be between 1 and 65535/);
  assert.throws(() => parseHostString('bad host'), /is not a host/);
});

test('configured names: settings first, then concrete config aliases (no wildcards)', () => {
  assert.deepEqual(configuredTargetNames([{ name: 'lab', host: 'x' }], config), ['lab', 'web1', 'bastion']);
});
