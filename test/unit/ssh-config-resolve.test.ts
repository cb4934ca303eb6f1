// ~/.ssh/config resolved as OpenSSH does, compared with `ssh -G` itself on a set of configs (Include with globs and
// inside Host, `web?` patterns, negation, Match exec/host/user/originalhost/final, first value wins, ProxyCommand, bad Port).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSshConfig } from '../../engine/targets/ssh-config-resolve';
import { resolveTarget } from '../../engine/targets/target-address';

const sshMissing = existsSync('/usr/bin/ssh') ? undefined : 'the OpenSSH client (ssh), to compare with `ssh -G`';
if (sshMissing && process.env.CI === 'true') throw new Error(`needs ${sshMissing}`);

let dir: string;
let config: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-ssh-g-'));
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'marker'), '');
  writeFileSync(join(dir, 'conf.d', '10-web.conf'), ['Host web?', '  HostName %h.internal.example', '  User webops', '  Port 2201', ''].join('\n'));
  writeFileSync(join(dir, 'conf.d', '20-db.conf'), ['Host db', '  HostName 10.9.0.7', 'Match host 10.9.0.7 exec "test -f ' + join(dir, 'marker') + '"', '  User dbadmin', ''].join('\n'));
  writeFileSync(join(dir, 'conf.d', 'ignored.txt'), 'Host web1\n  User never\n');
  writeFileSync(join(dir, 'only-for-inner'), 'Port 2299\nUser from-include\n');
  config = join(dir, 'config');
  writeFileSync(
    config,
    [
      `Include ${join(dir, 'conf.d', '*.conf')}`,
      'Host inner',
      `  Include ${join(dir, 'only-for-inner')}`,
      '  ProxyJump mid',
      'Host mid',
      '  HostName mid.example',
      '  ProxyJump outer',
      'Host outer',
      '  HostName outer.example',
      '  User jumper',
      'Host pc',
      '  ProxyCommand nc -q0 %h %p # not a comment to ssh',
      '  ProxyJump never-used',
      'Host *.lab !secret.lab',
      '  User labuser',
      'Match originalhost gate exec "false"',
      '  User not-applied',
      'Match originalhost gate !exec "false"',
      '  User gatekeeper',
      'Match user gatekeeper',
      '  Port 2022',
      'Match final host *.final.example',
      '  Port 2400',
      'Host fin',
      '  HostName fin.final.example',
      'Host *',
      '  User fallback',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'bad-port'), 'Host bad\n  Port abc\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const KEYS = ['hostname', 'user', 'port', 'proxyjump', 'proxycommand'];

function sshG(host: string, file = config): Map<string, string> | string {
  const run = spawnSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8' });
  if (run.status !== 0) return run.stderr.trim();
  return new Map(run.stdout.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
}

function ours(host: string, file = config): Map<string, string> {
  const r = resolveSshConfig(host, file).options;
  return new Map([...r].map(([k, v]) => [k, v.join(' ')]));
}

for (const host of ['web1', 'web', 'web12', 'db', 'inner', 'mid', 'pc', 'x.lab', 'secret.lab', 'gate', 'fin', 'plain.example']) {
  test(`${host}: the same hostname, user, port, ProxyJump and ProxyCommand as ssh -G`, { skip: sshMissing }, () => {
    const expected = sshG(host);
    assert.ok(typeof expected !== 'string', `ssh -G failed: ${expected}`);
    const got = ours(host);
    for (const key of KEYS) assert.equal(got.get(key), expected.get(key), `${key} of ${host}`);
  });
}

test('values seen by hand: Include globs only *.conf, web? needs one character, Match exec applies its block, final pass', () => {
  assert.equal(ours('web1').get('hostname'), 'web1.internal.example');
  assert.equal(ours('web').get('user'), 'fallback');
  assert.equal(ours('db').get('user'), 'dbadmin');
  assert.equal(ours('inner').get('port'), '2299');
  assert.equal(ours('gate').get('user'), 'gatekeeper');
  assert.equal(ours('gate').get('port'), '2022');
  assert.equal(ours('fin').get('port'), '2400');
});

test('a bad Port is an error naming the file and line, as ssh -G refuses it', () => {
  assert.throws(() => resolveSshConfig('bad', join(dir, 'bad-port')), /bad-port line 2: bad Port "abc" \(expected a number from 1 to 65535\)/);
  if (!sshMissing) assert.equal(typeof sshG('bad', join(dir, 'bad-port')), 'string', 'ssh -G refuses it too');
});

test("a jump host's own ProxyJump comes first in the chain; ProxyCommand is kept; unused directives are named", () => {
  const inner = resolveTarget('inner', { sshConfigPath: config });
  assert.equal(inner.kind, 'ssh');
  if (inner.kind !== 'ssh') return;
  assert.deepEqual(inner.host.jumps.map((j) => `${j.user}@${j.host}:${j.port}`), ['jumper@outer.example:22', 'fallback@mid.example:22']);
  const pc = resolveTarget('pc', { sshConfigPath: config });
  assert.ok(pc.kind === 'ssh' && pc.host.proxyCommand === 'nc -q0 pc 22 # not a comment to ssh' && pc.host.jumps.length === 0);
  writeFileSync(join(dir, 'extra'), 'Host x\n  ForwardAgent yes\n  LocalForward 8080 localhost:80\n');
  const x = resolveTarget('x', { sshConfigPath: join(dir, 'extra') });
  assert.ok(x.kind === 'ssh');
  assert.deepEqual(x.kind === 'ssh' && x.host.notUsed, ['forwardagent', 'localforward']);
});
