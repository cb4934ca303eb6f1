// The agent's explanation of a failed object load, from libbpf 1.1.2's messages and a verifier log as this kernel wrote
// them: the rejected program, its source line and the verifier's last word, which programs passed, a refused map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFailure, rejectedSourceLine, verifierObjection } from '../../agent/src/load-failure';

const LOG = `func#0 @0
0: R1=ctx() R10=fp0
; return *(v + k); @ mixed-verdicts.bpf.c:31
13: (0f) r6 += r0                     ; R6=map_value(map=lf_values,ks=4,vs=64,smin=0)
14: (79) r7 = *(u64 *)(r6 +0)
R6 unbounded memory access, make sure to bounds check any such access
processed 14 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
`;
const REJECTED = [
  "libbpf: prog 'lf_rejected': BPF program load failed: Permission denied",
  "libbpf: prog 'lf_rejected': failed to load: -13",
  "libbpf: failed to load object 'mixed-verdicts.bpf.o'",
];
const PLAN = [
  { name: 'lf_accepted', section: 'tracepoint/syscalls/sys_enter_getppid', chosen: true },
  { name: 'lf_rejected', section: 'tracepoint/syscalls/sys_enter_getpid', chosen: true },
  { name: 'lf_after', section: 'tracepoint/syscalls/sys_enter_gettid', chosen: true },
  { name: 'lf_unasked', section: 'tracepoint/syscalls/sys_enter_getuid', chosen: false },
];

test("the verifier's objection is the last log line before its statistics", () => {
  assert.equal(verifierObjection(LOG), 'R6 unbounded memory access, make sure to bounds check any such access');
  assert.equal(verifierObjection('last words\n'), 'last words');
  assert.equal(verifierObjection(''), undefined);
});

test('the source line is the last annotation of the log', () => {
  assert.equal(rejectedSourceLine(LOG), 'mixed-verdicts.bpf.c:31 (return *(v + k);)');
  assert.equal(rejectedSourceLine('no annotations\n'), undefined);
});

test('a rejection names the program, its section and line, the objection, and what passed and what was not tried', () => {
  const err = loadFailure(-13, PLAN, REJECTED, LOG);
  assert.equal(err.code, 'ELOAD');
  assert.match(err.message, /^Load failed: the kernel verifier rejected program lf_rejected \(tracepoint\/syscalls\/sys_enter_getpid\) at mixed-verdicts\.bpf\.c:31/);
  assert.match(err.message, /: R6 unbounded memory access, make sure to bounds check any such access\./);
  assert.match(err.message, /lf_accepted passed the verifier but was unloaded again/);
  assert.match(err.message, /lf_after was not verified/);
  assert.doesNotMatch(err.message, /lf_unasked/);
  assert.match(err.message, /Verifier log \(last lines\):\n[\s\S]*R6 unbounded memory access/);
});

test('without a verifier log, the rejection falls back to libbpf\'s reason', () => {
  const err = loadFailure(-13, PLAN.slice(1, 2), REJECTED, '');
  assert.match(err.message, /rejected program lf_rejected \(tracepoint\/syscalls\/sys_enter_getpid\): Permission denied\./);
  assert.doesNotMatch(err.message, /Fix lf_rejected, or load only the other programs/, 'a single program has no others to load');
});

test('a map the kernel refused is named, with libbpf\'s messages', () => {
  const messages = ["libbpf: map 'lf_empty_hash': failed to create: Invalid argument(-22)", "libbpf: failed to load object 'm.bpf.o'"];
  const err = loadFailure(-22, PLAN.slice(0, 1), messages, '');
  assert.match(err.message, /the kernel refused to create map lf_empty_hash: Invalid argument\(-22\)/);
  assert.match(err.message, /libbpf said:\nlibbpf: map 'lf_empty_hash'/);
});
