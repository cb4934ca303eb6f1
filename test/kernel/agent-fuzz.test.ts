// Fuzzes a live agent with seeded random and mutated requests (wrong types, huge values, missing and unknown fields,
// prototype method names, garbage and long lines) while a program it attached keeps counting; every line is answered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadResult } from '../../protocol/agent-rpc';
import { skipUnlessCountingAgentCan, startCountingAgent, type CountingAgent } from './counting-agent';
import type { RawAgent } from './raw-agent';

const skip = skipUnlessCountingAgentCan('the agent fuzz test');
/** Fixed so a failure can be replayed; FUZZ_SEED overrides it to explore. */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed11);
const REQUESTS = 600;

/** mulberry32: a small seeded generator, so every run sends the same lines. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('agent fuzz', { skip }, () => {
  let counting: CountingAgent;
  let agent: RawAgent;
  let session: LoadResult;
  const rand = random(SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const int = (n: number) => Math.floor(rand() * n);

  /** Values of every JSON type, small and huge, including the ones that crashed the agent (numbers for pointers). */
  const anyValue = (depth = 0): unknown => {
    switch (int(depth > 1 ? 9 : 11)) {
      case 0: return null;
      case 1: return pick([0, -1, 1, 7, 4096, 2 ** 31, 2 ** 32, 4294969270, 2 ** 53, -(2 ** 53), 1.5, 1e308, -1e308]);
      case 2: return pick(['', 'x', 'hello', '../../../../etc/passwd', '/sys/fs/bpf/x', 'a\u0000b', 'toString', '__proto__', 's1', 'é'.repeat(300)]);
      case 3: return 'A'.repeat(int(2) ? 1 + int(5000) : 1 + int(3_000_000));
      case 4: return rand() < 0.5;
      case 5: return [];
      case 6: return {};
      case 7: return pick([1, 2, 'x', 'ingress', 'tracepoint', 'btf', 'function']);
      case 8: return int(100000) - 50000;
      case 9: return Array.from({ length: 1 + int(4) }, () => anyValue(depth + 1));
      default: return Object.fromEntries(Array.from({ length: 1 + int(4) }, () => [pick(['session', 'map', 'id', 'x', 'pid', '__proto__', 'constructor']), anyValue(depth + 1)]));
    }
  };

  /** A valid request of each method (never naming the live session, so none can detach it), to mutate. */
  const templates = (): { method: string; params: Record<string, unknown> }[] => [
    { method: 'hello', params: {} },
    { method: 'sessions', params: {} },
    { method: 'btf', params: {} },
    { method: 'readMap', params: { session: 's999', map: 'syscalls', maxEntries: 16, withBtf: true } },
    { method: 'readMap', params: { id: 1 + int(5000), maxEntries: 1 + int(1000) } },
    { method: 'readMap', params: { pinned: '/sys/fs/bpf/none', cursor: 'b:AAAAAAAAAAA=' } },
    { method: 'readMap', params: { session: 's999', map: 'syscalls', remember: true, since: 'r1' } },
    { method: 'objectBtf', params: { session: 's999' } },
    { method: 'stats', params: { session: 's999' } },
    { method: 'detach', params: { session: 's999' } },
    { method: 'streamEvents', params: { session: 's999', map: 'events', maxQueue: 10 } },
    { method: 'stopEvents', params: { session: 's999', map: 'events' } },
    { method: 'attachPoints', params: { kind: pick(['tracepoint', 'btf', 'function']), prefix: 'sys_enter_ope', limit: 5 } },
    { method: 'verify', params: { object: 'AAAA', objectName: 'x.bpf.o', programs: ['count_syscall'], logLevel: 1 } },
    { method: 'load', params: { object: 'AAAA', objectName: 'x.bpf.o', noAttach: true, attach: { '*': { pid: 1, symbol: 'main', binaryPath: '/bin/true', frequencyHz: 99 } }, globals: { x: 1 } } },
  ];

  /** One mutated request line (no newline inside); sometimes not a request at all. */
  const fuzzLine = (id: number): string => {
    const roll = rand();
    if (roll < 0.05) return JSON.stringify(anyValue());
    if (roll < 0.08) return Buffer.from(Array.from({ length: 1 + int(200) }, () => 32 + int(95))).toString('latin1');
    const { method, params } = pick(templates());
    const request: Record<string, unknown> = { id, method, params: { ...params } };
    const target = request.params as Record<string, unknown>;
    for (let n = 1 + int(3); n > 0; n--) {
      const what = int(10);
      const keys = Object.keys(target);
      if (what < 3 && keys.length) target[pick(keys)] = anyValue();
      else if (what < 5 && keys.length) delete target[pick(keys)];
      else if (what === 5) target[pick(['extra', 'constructor', 'prototype', '__proto__'])] = anyValue();
      else if (what === 6) request.params = anyValue();
      else if (what === 7) request.method = pick(['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty', '', 'HELLO', anyValue()]);
      else if (what === 8) request.id = pick([-1, 1.5, '1', null, 2 ** 60, undefined]);
      else if (keys.length) target[pick(keys)] = anyValue(1);
    }
    return JSON.stringify(request);
  };

  const count = () => counting.syscallCount();

  before(async () => {
    counting = await startCountingAgent();
    ({ agent, session } = counting);
  });

  after(() => counting?.closeAndCheckGone());

  test(`answers every one of ${REQUESTS} seeded random and mutated lines (seed ${SEED}), never crashes, and the program keeps counting`, { timeout: 600_000 }, async (t) => {
    const started = Date.now();
    let last = await count();
    let sent = 0;
    const codes = new Map<string, number>();
    for (let id = 1_000_000; sent < REQUESTS; id++) {
      const line = sent === REQUESTS / 2 ? `{"id":${id},"method":"hello","params":{"pad":"${'x'.repeat(65 * 1024 * 1024)}"}}` : fuzzLine(id);
      await agent.send(`${line}\n`);
      sent++;
      const reply = await agent.nextReply();
      assert.ok(typeof reply.id === 'number' && (reply.id === id || reply.id === -1), `the reply answers line ${sent}: ${JSON.stringify(reply).slice(0, 200)} to ${line.slice(0, 200)}`);
      assert.ok('result' in reply || 'error' in reply, `a reply has a result or an error: ${JSON.stringify(reply).slice(0, 200)}`);
      const code = 'error' in reply ? String((reply.error as { code?: string }).code) : 'ok';
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (sent % 50 === 0) {
        const now = await count();
        assert.ok(now > last, `the attached program still counts after ${sent} lines`);
        last = now;
      }
    }
    t.diagnostic(`${sent} lines in ${Date.now() - started} ms; replies by code: ${JSON.stringify(Object.fromEntries(codes))}`);
    assert.ok((codes.get('EINVAL') ?? 0) > 0 && (codes.get('ENOMETHOD') ?? 0) > 0 && (codes.get('EPROTO') ?? 0) > 0, `every kind of refusal was exercised: ${JSON.stringify([...codes])}`);
    const sessions = await agent.request('sessions', {});
    assert.ok((sessions.result as { sessions: { session: string }[] }).sessions.some((s) => s.session === session.session), 'the live session is still there');
    assert.ok((await count()) > last, 'and still counting');
  });
});
