// "Why" in related information: flow findings (unset variable, NULL pointer, unbounded index or size, uninitialised stack, packet
// bounds, leaked reference, return value, stack size) carry their path (origin, branches taken, the use or call chain). Talks to the rule engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allRules } from '../../server/src/rules/index';
import { checkProbeFile } from '../../server/src/rules/rule-engine';
import { parseProbeFile } from '../../server/src/analysis/probe-document';

const KERNEL = { major: 6, minor: 18, patch: 0 };
const probe = readFileSync(join(__dirname, '../fixtures/corpus/openat-ret-unset-on-filter.bpf.c'), 'utf8');

test('a read of a variable unset on one path explains the path: declared, set only under a condition, read', async () => {
  const uri = 'file:///work/openat.bpf.c';
  const file = await parseProbeFile(probe, { uri, targetKernel: KERNEL });
  const [finding] = checkProbeFile(file, allRules).filter((d) => d.code === 'variable-unset-on-path');
  assert.ok(finding, 'the unset read is found');
  assert.equal(finding.range.start.line + 1, 18);
  const steps = (finding.relatedInformation ?? []).map((r) => `${r.location.uri === uri ? '' : r.location.uri}${r.location.range.start.line + 1}: ${r.message}`);
  assert.deepEqual(steps, [
    "11: 'ret' is declared here without a value",
    "15: set here only when 'pid == targ_pid'",
    '18: read here on a path where none of those assignments ran',
  ]);
});

const PATHS: { probe: string; rule: string; line: number; steps: string[] }[] = [
  {
    probe: 'lookup-used-in-else-branch.bpf.c',
    rule: 'nullable-pointer-unchecked',
    line: 26,
    steps: [
      "21: 'seen' may be NULL from here: bpf_map_lookup_elem() returns NULL when the key has no entry",
      "23: on this path 'seen' is false",
      "26: used here while 'seen' may still be NULL",
    ],
  },
  {
    probe: 'tc-hist-clamped-on-one-path.bpf.c',
    rule: 'unbounded-array-index',
    line: 33,
    steps: [
      "24: 'slot' is set here: slot = skb->len / 128",
      "27: '!h' is false on this path (it would have left here)",
      "30: 'slot' is compared here, but the path below does not only come from the side where it is bounded",
      "31: 'slot' is set here only when 'skb->protocol == bpf_htons(ETH_P_IP)' and 'slot >= MAX_SLOTS'",
      "33: indexed here with no upper bound known for 'slot'",
    ],
  },
  {
    probe: 'trace-arg-size-unchecked.bpf.c',
    rule: 'unbounded-helper-size',
    line: 33,
    steps: ["28: '!p' is false on this path (it would have left here)", "30: on this path 'p->size == 0' is false", '33: passed here as the size with no upper bound known'],
  },
  {
    probe: 'cgroup-skb-event-with-holes.bpf.c',
    rule: 'uninitialized-stack-memory',
    line: 25,
    steps: [
      "20: 'e' is declared here without an initialiser: what is not written later holds stale stack bytes",
      "22: 'e.proto' is written here",
      "23: 'e.len' is written here",
      "24: 'e.cookie' is written here",
      '25: bpf_perf_event_output() reads all of it here; its padding bytes are unwritten on this path',
    ],
  },
  {
    probe: 'tc-egress-port-filter-unchecked.bpf.c',
    rule: 'packet-bounds-unchecked',
    line: 25,
    steps: [
      '20: checked against data_end here, but that check does not cover this read on this path',
      "22: 'eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_TCP' is false on this path (it would have left here)",
      "24: 'tcp' is set here: tcp = (void *)ip + ip->ihl * 4",
      '25: read here, with no data_end check on this path covering its 20 bytes (its offset is computed at run time)',
    ],
  },
  {
    probe: 'open-ringbuf-leak-on-read-error.bpf.c',
    rule: 'reference-not-released',
    line: 32,
    steps: [
      "23: 'e' holds a ring buffer reservation from here: bpf_ringbuf_reserve() on line 23",
      "24: '!e' is false on this path (it would have left here)",
      "28: on this path 'bpf_probe_read_user_str(e->fname, sizeof(e->fname), (const char *)ctx->args[1]) < 0' is true",
      "29: the function returns here with 'e' not submitted or discarded",
    ],
  },
  {
    probe: 'connect4-return-eperm.bpf.c',
    rule: 'invalid-return-value',
    line: 14,
    steps: ["11: on this path 'ctx->user_port == bpf_htons(25)' is true", '12: R0 = -1 (-EPERM) here, outside [0, 1]'],
  },
  {
    probe: 'tc-payload-sample-noinline-stack-chain.bpf.c',
    rule: 'stack-size-exceeded',
    line: 38,
    steps: ["34: 'sample' uses 0 bytes of stack", "37: calls 'sample_headers' (not inlined), whose frame adds 288 bytes", "30: calls 'sample_payload' (not inlined), whose frame adds 288 bytes"],
  },
  {
    probe: 'big-event-on-stack.bpf.c',
    rule: 'stack-size-exceeded',
    line: 17,
    steps: ["19: 'e' takes 648 bytes of on_execve's stack"],
  },
  {
    probe: 'retransmit-event-unset-for-ipv6.bpf.c',
    rule: 'variable-unset-on-path',
    line: 25,
    steps: [
      "19: 'e' is declared here without a value",
      "22: set here only when 'ctx->family == 2'",
      '23: first read here, on a path where none of those assignments ran: a test of an undefined value, which clang drops',
      "25: so the path goes on to this use, where the kernel finds 'e' never written",
    ],
  },
  {
    probe: 'sock-create-reads-src-port.bpf.c',
    rule: 'context-access-not-allowed',
    line: 10,
    steps: ['7: SEC("cgroup/sock_create") decides which context fields \'sock_create_audit\' may touch'],
  },
  {
    probe: 'tcpconnect-kprobe-sock-deref.bpf.c',
    rule: 'direct-kernel-memory-read',
    line: 22,
    steps: ["18: 'sk' gets its value here: PT_REGS_PARM1() is a register value", '22: dereferenced here: the verifier refuses a load through a number'],
  },
  {
    probe: 'perf-output-on-ringbuf.bpf.c',
    rule: 'map-type-helper-mismatch',
    line: 11,
    steps: ["5: 'events' is declared here as a BPF_MAP_TYPE_RINGBUF", '11: passed to bpf_perf_event_output() here'],
  },
  {
    probe: 'ringbuf-submit-heap-event.bpf.c',
    rule: 'helper-argument-kind',
    line: 34,
    steps: ["27: 'e' gets its value here: a pointer into a map value", '34: passed to bpf_ringbuf_submit() as argument 1 (R1)'],
  },
  {
    probe: 'argv-loop-unbounded.bpf.c',
    rule: 'unbounded-loop',
    line: 22,
    steps: [
      '22: the verifier walks this body once per iteration it cannot rule out, until it gives up at 1,000,000 instructions',
      "24: the loop leaves when '!arg', which bounds no counter the verifier can follow",
    ],
  },
];

for (const expected of PATHS) {
  test(`${expected.rule} on ${expected.probe} explains the path to line ${expected.line}`, async () => {
    const uri = `file:///work/${expected.probe}`;
    const file = await parseProbeFile(readFileSync(join(__dirname, '../fixtures/corpus', expected.probe), 'utf8'), { uri, targetKernel: KERNEL });
    const finding = checkProbeFile(file, allRules).find((d) => d.code === expected.rule && d.range.start.line + 1 === expected.line);
    assert.ok(finding, `${expected.rule} flags line ${expected.line}`);
    assert.deepEqual((finding.relatedInformation ?? []).map((r) => `${r.location.range.start.line + 1}: ${r.message}`), expected.steps);
  });
}

test('a maybe-NULL skb->sk handed to bpf_sk_fullsock() through a local explains where it was set and the tests passed', async () => {
  const probe = [
    '#include <linux/bpf.h>',
    '#include <linux/pkt_cls.h>',
    '#include <bpf/bpf_helpers.h>',
    'SEC("tc")',
    'int tc_full(struct __sk_buff *skb)',
    '{',
    '	struct bpf_sock *sk = skb->sk;',
    '	if (skb->len < 64)',
    '		return TC_ACT_OK;',
    '	return bpf_sk_fullsock(sk) ? TC_ACT_OK : TC_ACT_SHOT;',
    '}',
  ].join('\n');
  const checked = probe.replace('if (skb->len < 64)', 'if (!sk || skb->len < 64)');
  const findingsOf = async (text: string) => checkProbeFile(await parseProbeFile(text, { targetKernel: KERNEL }), allRules).filter((d) => d.code === 'helper-argument-kind');
  const [finding] = await findingsOf(probe);
  assert.ok(finding, 'the unchecked socket is found');
  assert.equal(finding.range.start.line + 1, 10);
  assert.deepEqual((finding.relatedInformation ?? []).map((r) => `${r.location.range.start.line + 1}: ${r.message}`), [
    "7: 'sk' is set from skb->sk here, which is NULL when no socket owns the packet",
    "8: 'skb->len < 64' is false on this path (it would have left here)",
    '10: passed to bpf_sk_fullsock() with no NULL test on this path',
  ]);
  assert.deepEqual(await findingsOf(checked), [], 'a NULL test of sk on the way clears it');
});
