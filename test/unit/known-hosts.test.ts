// known_hosts checks: plain, [host]:port, hashed (|1|salt|hash) and pattern entries, !negation, @revoked, a
// changed key refused with both fingerprints, and newly accepted keys appended hashed. Uses ssh-keygen's keys.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnownHosts, describeRefusal, hostKeyFromBlob, sha256Fingerprint, type HostKey } from '../../engine/targets/known-hosts';

let dir: string;
let keyA: HostKey;
let keyB: HostKey;
let lineA: string;
let lineB: string;

function makeKey(name: string): { key: HostKey; line: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
  const [type, b64] = readFileSync(`${path}.pub`, 'utf8').split(' ');
  return { key: hostKeyFromBlob(Buffer.from(b64, 'base64')), line: `${type} ${b64}` };
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ebpf-studio-kh-'));
  ({ key: keyA, line: lineA } = makeKey('a'));
  ({ key: keyB, line: lineB } = makeKey('b'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the fingerprint is the one ssh-keygen prints', () => {
  const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'a.pub')], { encoding: 'utf8' }).split(' ')[1];
  assert.equal(sha256Fingerprint(keyA.blob), printed);
  assert.equal(keyA.type, 'ssh-ed25519');
});

test('plain, port and pattern entries match; a different key of the same type is a mismatch', () => {
  const path = join(dir, 'kh1');
  writeFileSync(path, `# comment\nweb1,10.0.0.5 ${lineA}\n[127.0.0.1]:2222 ${lineA}\n*.lab.example,!bad.lab.example ${lineA}\n`);
  const kh = new KnownHosts(path);
  assert.equal(kh.verify('web1', 22, keyA).kind, 'known');
  assert.equal(kh.verify('127.0.0.1', 2222, keyA).kind, 'known');
  assert.equal(kh.verify('127.0.0.1', 22, keyA).kind, 'unknown', 'port 22 is a different name than [host]:2222');
  assert.equal(kh.verify('x.lab.example', 22, keyA).kind, 'known');
  assert.equal(kh.verify('bad.lab.example', 22, keyA).kind, 'unknown', 'negated pattern');
  const verdict = kh.verify('web1', 22, keyB);
  assert.equal(verdict.kind, 'mismatch');
  const message = describeRefusal('web1', 22, keyB, verdict, path);
  assert.ok(message.includes(sha256Fingerprint(keyB.blob)) && message.includes(sha256Fingerprint(keyA.blob)));
  assert.match(message, /CHANGED/);
});

test('hashed entries written by ssh-keygen -H are matched', () => {
  const path = join(dir, 'kh2');
  writeFileSync(path, `[10.1.1.1]:2200 ${lineB}\n`);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', path], { stdio: 'ignore' });
  assert.match(readFileSync(path, 'utf8'), /^\|1\|/);
  const kh = new KnownHosts(path);
  assert.equal(kh.verify('10.1.1.1', 2200, keyB).kind, 'known');
  assert.equal(kh.verify('10.1.1.1', 2200, keyA).kind, 'mismatch');
  assert.deepEqual(kh.knownTypes('10.1.1.1', 2200), ['ssh-ed25519']);
});

test('@revoked keys are refused for every host', () => {
  const path = join(dir, 'kh3');
  writeFileSync(path, `@revoked * ${lineA}\n`);
  assert.equal(new KnownHosts(path).verify('anything', 22, keyA).kind, 'revoked');
});

test('an accepted key is appended hashed, and ssh-keygen -F finds it', () => {
  const path = join(dir, 'kh4');
  const kh = new KnownHosts(path);
  assert.equal(kh.verify('new.example', 2022, keyA).kind, 'unknown');
  kh.add('new.example', 2022, keyA);
  assert.equal(kh.verify('new.example', 2022, keyA).kind, 'known');
  assert.doesNotMatch(readFileSync(path, 'utf8'), /new\.example/, 'the host name is not stored in clear');
  const found = execFileSync('ssh-keygen', ['-F', '[new.example]:2022', '-f', path], { encoding: 'utf8' });
  assert.match(found, /ssh-ed25519/);
});
