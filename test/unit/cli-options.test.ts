// The CLI's options through its one parser (cli/src/command-line.ts, node:util parseArgs): --target, --identity and
// --known-hosts read the same way by check, run, maps dump and targets probe, check's --verify flags, one UsageError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { parseCheckArgs } from '../../cli/src/check-command';
import { UsageError } from '../../cli/src/command-line';
import { parseMapsArgs } from '../../cli/src/maps-command';
import { parseRunArgs } from '../../cli/src/run-command';
import { runTargetsCommand } from '../../cli/src/targets-command';

const TARGET_ARGS = ['--target', 'ssh://ops@10.0.0.5:2222', '--identity=~/.ssh/k', '--known-hosts', 'kh'];
const TARGET_SEEN = { identity: '~/.ssh/k', knownHosts: 'kh' };

test('check, run and maps dump read --target/--identity/--known-hosts alike, with separate or inline values', () => {
  const check = parseCheckArgs(['--verify', ...TARGET_ARGS, '--clang=/opt/clang', '--log-level', '2', '-I', 'inc', 'a.bpf.c']);
  assert.deepEqual(check.verify, { verify: true, targets: ['ssh://ops@10.0.0.5:2222'], clangPath: '/opt/clang', logLevel: 2, mapSizes: {}, ...TARGET_SEEN });
  assert.deepEqual([check.includePaths, check.files], [['inc'], ['a.bpf.c']]);
  const run = parseRunArgs(['p.bpf.c', ...TARGET_ARGS, '--duration=2']);
  assert.deepEqual({ target: run.target, identity: run.identity, knownHosts: run.knownHosts, durationS: run.durationS }, { target: 'ssh://ops@10.0.0.5:2222', ...TARGET_SEEN, durationS: 2 });
  const maps = parseMapsArgs(['dump', '--id', '7', ...TARGET_ARGS]);
  assert.deepEqual(maps, { selector: { id: 7 }, target: 'ssh://ops@10.0.0.5:2222', format: 'json', ...TARGET_SEEN });
});

test('defaults: the local target, no verify, no SSH options', () => {
  assert.deepEqual(parseCheckArgs(['a.bpf.c']).verify, { verify: false, targets: [], mapSizes: {} });
  const run = parseRunArgs(['p.bpf.c']);
  assert.deepEqual([run.target, run.identity, run.knownHosts, run.intervalS], ['local', undefined, undefined, 1]);
  assert.equal(parseMapsArgs(['dump', '--pinned', '/sys/fs/bpf/m']).target, 'local');
});

test('check --target repeats into a matrix, in order', () => {
  assert.deepEqual(parseCheckArgs(['--target', 'kernel:6.1', '--target=kernel:6.12', '--target', 'local', 'a.bpf.c']).verify.targets, ['kernel:6.1', 'kernel:6.12', 'local']);
});

test('check --verify and run read --map-size alike: entries, value size or both, repeatable', () => {
  const args = ['--map-size', 'stackmap=512:800', '--map-size=start=4096', '--map-size', 'counts=:16'];
  const expected = { stackmap: { maxEntries: 512, valueSize: 800 }, start: { maxEntries: 4096 }, counts: { valueSize: 16 } };
  assert.deepEqual(parseCheckArgs(['--verify', ...args, 'a.bpf.c']).verify.mapSizes, expected);
  assert.deepEqual(parseRunArgs(['p.bpf.c', ...args]).mapSizes, expected);
  for (const bad of ['stackmap', 'stackmap=', 'stackmap=0', '1map=5', 'm=5:x', 'm=4294967296']) {
    assert.throws(() => parseCheckArgs(['--verify', '--map-size', bad, 'a.bpf.c']), (e) => e instanceof UsageError && /--map-size takes NAME=ENTRIES/.test(e.message), `check --map-size ${bad}`);
    assert.throws(() => parseRunArgs(['p.bpf.c', '--map-size', bad]), (e) => e instanceof UsageError && /--map-size takes NAME=ENTRIES/.test(e.message), `run --map-size ${bad}`);
  }
});

test('missing, empty, unknown and bad values are the same UsageError in every command', () => {
  const parsers: Array<[string, (args: string[]) => unknown]> = [
    ['check', (args) => parseCheckArgs(['a.bpf.c', ...args])],
    ['run', (args) => parseRunArgs(['p.bpf.c', ...args])],
    ['maps dump', (args) => parseMapsArgs(['dump', '--id', '1', ...args])],
  ];
  for (const [name, parse] of parsers) {
    assert.throws(() => parse(['--target']), (e) => e instanceof UsageError && /--target/.test(e.message), `${name} --target without a value`);
    assert.throws(() => parse(['--identity=']), (e) => e instanceof UsageError && /--identity needs a value/.test(e.message), `${name} --identity=`);
    assert.throws(() => parse(['--known-hosts', '']), (e) => e instanceof UsageError && /--known-hosts needs a value/.test(e.message), `${name} --known-hosts ''`);
    assert.throws(() => parse(['--frobnicate']), (e) => e instanceof UsageError && /Unknown option '--frobnicate'/.test(e.message), `${name} --frobnicate`);
    assert.throws(() => parse(['--help']), (e) => e instanceof UsageError && e.message === '', `${name} --help asks for the usage`);
  }
  assert.throws(() => parseCheckArgs(['--log-level', '3', 'a.bpf.c']), /--log-level is 1 or 2/);
  assert.throws(() => parseMapsArgs(['dump', '--id', '0']), /--id needs a map id from 1 to 4294967295/);
  assert.throws(() => parseRunArgs(['p.bpf.c', '--interval', 'soon']), /--interval takes a number of seconds/);
});

test('targets probe answers a bad option with its usage and exit status 2, before connecting anywhere', async () => {
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  err.on('data', (chunk: Buffer) => (text += chunk.toString()));
  assert.equal(await runTargetsCommand(['probe', '--identity'], out, err), 2);
  assert.match(text, /ebpf-studio targets probe: .*--identity/);
  assert.match(text, /--known-hosts FILE/);
});
