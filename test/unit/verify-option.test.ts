// The `check --verify` flags: --verify, --target (local, kernel:6.1, ssh://user@host:port, aliases; repeatable), --clang, --log-level,
// both as "--flag value" and "--flag=value", and clear errors for missing or bad values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultVerifyOptions, takeVerifyFlag, type VerifyCliOptions } from '../../cli/src/verify-option';

function parse(args: string[]): { options: VerifyCliOptions; rest: string[] } {
  const options = defaultVerifyOptions();
  const rest: string[] = [];
  for (let i = 0; i < args.length; ) {
    const used = takeVerifyFlag(args, i, options);
    if (used > 0) i += used;
    else rest.push(args[i++]);
  }
  return { options, rest };
}

test('flags are taken with separate or inline values; other arguments are left for check', () => {
  const { options, rest } = parse(['--verify', '--target', 'ssh://ops@10.0.0.5:2222', '--clang=/opt/clang', '--log-level', '2', '-I', 'inc', 'a.bpf.c', '--identity=~/.ssh/k', '--known-hosts', 'kh']);
  assert.deepEqual(options, { verify: true, targets: ['ssh://ops@10.0.0.5:2222'], clangPath: '/opt/clang', logLevel: 2, identity: '~/.ssh/k', knownHosts: 'kh' });
  assert.deepEqual(rest, ['-I', 'inc', 'a.bpf.c']);
});

test('defaults: no verify, no target named (local)', () => {
  assert.deepEqual(parse(['a.bpf.c']).options, { verify: false, targets: [] });
});

test('--target repeats into a matrix, in order', () => {
  assert.deepEqual(parse(['--target', 'kernel:6.1', '--target=kernel:6.12', '--target', 'local', 'a.bpf.c']).options.targets, ['kernel:6.1', 'kernel:6.12', 'local']);
});

test('missing or bad values are usage errors', () => {
  assert.throws(() => parse(['--target']), /--target needs a value/);
  assert.throws(() => parse(['--log-level', '3']), /--log-level is 1 or 2/);
  assert.throws(() => parse(['--clang=']), /--clang needs a value/);
});
