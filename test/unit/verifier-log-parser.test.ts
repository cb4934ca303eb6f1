// The verifier log parser and explanations on logs recorded from this kernel (test/fixtures/verifier-logs/):
// final message, failing instruction, annotated source line, register state, message family, truncated logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { explainKprobesUnavailable, explainLoadRefusal, explainVerifierMessage } from '../../engine/verify/explain-verifier-message';
import { parseRegisterState, parseVerifierLog } from '../../engine/verify/parse-verifier-log';

const logs = join(__dirname, '..', 'fixtures', 'verifier-logs');
const read = (name: string) => readFileSync(join(logs, name), 'utf8');

const cases: { log: string; message: RegExp; insn: number; line: number; family: string }[] = [
  { log: 'mixed.log', message: /^R0 invalid mem access 'map_value_or_null'$/, insn: 7, line: 33, family: 'null-map-value' },
  { log: 'bad-ctx-access.log', message: /^invalid bpf_context access off=0 size=8$/, insn: 1, line: 8, family: 'bad-ctx-access' },
  { log: 'gpl-only.log', message: /^cannot call GPL-restricted function/, insn: 7, line: 10, family: 'gpl-only' },
  { log: 'helper-not-allowed.log', message: /^program of this type cannot use helper bpf_xdp_adjust_head#44$/, insn: 1, line: 8, family: 'helper-not-allowed' },
  { log: 'invalid-return.log', message: /^At program exit the register R0 has smin=5 smax=5/, insn: 1, line: 8, family: 'invalid-return' },
  { log: 'packet-bounds.log', message: /^invalid access to packet, off=12 size=1, R1\(id=0,off=12,r=0\)\nR1 offset is outside of the packet$/, insn: 1, line: 13, family: 'packet-bounds' },
  { log: 'unbounded-index.log', message: /^R6 unbounded memory access/, insn: 14, line: 24, family: 'unbounded-access' },
  { log: 'unreleased-reference.log', message: /^Unreleased reference id=2 alloc_insn=4\nBPF_EXIT instruction in main prog would lead to reference leak$/, insn: 18, line: 18, family: 'unreleased-reference' },
  { log: 'core-relocation-missing-field.log', message: /^failed to resolve CO-RE relocation .*field_from_the_future/, insn: 1, line: 13, family: 'core-relocation' },
  { log: 'complexity-limit.truncated.log', message: /^The sequence of 8193 jumps is too complex\.$/, insn: 16, line: 11, family: 'too-complex' },
];

for (const c of cases) {
  test(`${c.log}: message, failing instruction, line and family`, () => {
    const parsed = parseVerifierLog(read(c.log));
    assert.match(parsed.errorMessage ?? '', c.message);
    assert.equal(parsed.failingInsn?.index, c.insn);
    assert.equal(parsed.failingSource?.line, c.line);
    assert.equal(parsed.failingSource?.file, c.log.replace(/(\.truncated)?\.log$/, '.bpf.c'));
    assert.equal(explainVerifierMessage(parsed.errorMessage ?? '')?.family, c.family);
    assert.equal(parsed.lines[parsed.failingInsn?.lineIndex ?? -1].kind, 'insn');
  });
}

test('register state at the failing instruction: deltas applied, caller-saved registers dropped after a call', () => {
  const parsed = parseVerifierLog(read('mixed.log'));
  assert.equal(parsed.registers.R0, 'map_value_or_null(id=1,map=counts,ks=4,vs=8)');
  assert.equal(parsed.registers.R10, 'fp0');
  assert.equal(parsed.registers['fp-8'], 'mmmm????');
  assert.equal(parsed.registers.R1, undefined, 'R1 is scratched by the helper call');
  const unreleased = parseVerifierLog(read('unreleased-reference.log'));
  assert.equal(unreleased.registers.R0, '0', 'the last delta wins');
  assert.equal(unreleased.registers.R6, 'ringbuf_mem(ref_obj_id=2,sz=8)', 'from the branch state');
  assert.equal(unreleased.insnSources.get(4)?.line, 13, 'the reservation (alloc_insn=4) maps to its line');
});

test('state tokens split at spaces outside parentheses', () => {
  assert.deepEqual(parseRegisterState('R0=scalar(smin=0,var_off=(0x0; 0x7)) R1_w=ctx() fp-8=mmmm???? refs=2'), {
    R0: 'scalar(smin=0,var_off=(0x0; 0x7))',
    R1: 'ctx()',
    'fp-8': 'mmmm????',
    refs: '2',
  });
});

test('a truncated log (the kernel keeps its tail) starting mid-line still parses', () => {
  const log = read('complexity-limit.truncated.log');
  assert.ok(!log.startsWith('0: R1=ctx()'), 'the fixture really lacks its head');
  const parsed = parseVerifierLog(log.slice(17));
  assert.equal(parsed.failingInsn?.index, 16);
  assert.match(parsed.errorMessage ?? '', /too complex/);
});

test('an accepted program\'s log and an empty log have no error', () => {
  assert.equal(parseVerifierLog(read('accepted-vmlinux.log')).errorMessage, undefined);
  assert.equal(parseVerifierLog(read('accepted-vmlinux.log')).failingInsn, undefined);
  assert.equal(parseVerifierLog('').errorMessage, undefined);
});

test('a multi-megabyte log parses (hang guard: 30 s)', { timeout: 30_000 }, () => {
  const body = read('unbounded-index.log').split('\n');
  const head = body.slice(0, 12).join('\n');
  const repeated = Array.from({ length: 40_000 }, () => head).join('\n');
  const big = `${repeated}\n${body.slice(12).join('\n')}`;
  assert.ok(big.length > 3 * 1024 * 1024);
  const parsed = parseVerifierLog(big);
  assert.match(parsed.errorMessage ?? '', /unbounded memory access/);
});

test('refusals without a log: EPERM under lockdown for fentry/lsm, and kprobes missing', () => {
  assert.equal(explainLoadRefusal({ errno: 1, section: 'fentry/do_unlinkat', log: '', lockdown: 'integrity' })?.family, 'lockdown');
  assert.match(explainLoadRefusal({ errno: 1, section: 'lsm/file_open', log: '' })?.explanation ?? '', /lockdown/);
  assert.equal(explainLoadRefusal({ errno: 1, section: 'tracepoint/syscalls/sys_enter_getpid', log: '' })?.family, 'permission');
  assert.equal(explainLoadRefusal({ errno: 22, section: 'xdp', log: '' }), undefined);
  assert.match(explainKprobesUnavailable('kprobe/do_unlinkat')?.explanation ?? '', /CONFIG_KPROBES/);
  assert.equal(explainKprobesUnavailable('tracepoint/x/y'), undefined);
});

test('every message family the product explains is recognised', () => {
  const samples: Record<string, string> = {
    'null-map-value': 'R1 pointer arithmetic on map_value_or_null prohibited, null-check it first',
    'uninitialized-stack': 'invalid indirect read from stack R3 off -16+0 size 8',
    'unbounded-access': "R5 min value is negative, either use unsigned or 'var &= const'",
    'stack-too-big': 'combined stack size of 3 calls is 576. Too large',
    'too-complex': 'BPF program is too large. Processed 1000001 insn',
    'scalar-deref': "R0 invalid mem access 'scalar'",
  };
  for (const [family, message] of Object.entries(samples)) assert.equal(explainVerifierMessage(message)?.family, family, message);
});
