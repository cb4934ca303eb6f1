// Each bad request reported in issue 11 against a live agent with a counting program attached: it gets an error
// reply, the agent keeps answering and the session keeps counting; LIBBPF_PIN_BY_NAME maps are pinned per session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from '../../protocol/agent-rpc';
import { requestLine as request, skipUnlessCountingAgentCan, startCountingAgent, type CountingAgent } from './counting-agent';
import type { RawAgent } from './raw-agent';

const skip = skipUnlessCountingAgentCan('agent input tests');

describe('the agent takes bad input without harm', { skip }, () => {
  let counting: CountingAgent;
  let agent: RawAgent;
  let session: LoadResult;
  let object: string;
  const syscallCount = () => counting.syscallCount();
  /** The request is refused with `code`, and afterwards the agent answers and the program still counts. */
  const refused = async (line: string | Buffer, code: string, message?: RegExp) => {
    const counted = await syscallCount();
    await agent.send(line);
    const reply = await agent.nextReply();
    const error = reply.error as { message: string; code: string } | undefined;
    assert.ok(error, `expected an error reply, got ${JSON.stringify(reply).slice(0, 300)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    assert.ok((await syscallCount()) > counted, 'the attached program keeps counting');
  };

  before(async () => {
    counting = await startCountingAgent();
    ({ agent, session, object } = counting);
  });

  after(() => counting?.closeAndCheckGone());

  test('readMap with maxEntries "x" is refused (it looped for ever at 100% CPU)', async () => {
    await refused(request('readMap', { session: session.session, map: 'syscalls', maxEntries: 'x' }), 'EINVAL', /params\.maxEntries must be an integer/);
  });

  test('streamEvents with maxQueue "x" is refused (the queue became unbounded)', async () => {
    await refused(request('streamEvents', { session: session.session, map: 'syscalls', maxQueue: 'x' }), 'EINVAL', /params\.maxQueue must be an integer/);
  });

  test('numbers where the kernel gets pointers are refused (objectName 5 and attach.symbol 7 crashed it, pinned 4096 reached the kernel)', async () => {
    await refused(request('load', { object, objectName: 5 }), 'EINVAL', /params\.objectName must be a string/);
    await refused(request('load', { object, attach: { count_syscall: { binaryPath: '/bin/true', symbol: 7 } } }), 'EINVAL', /params\.attach\.count_syscall\.symbol must be a string/);
    await refused(request('readMap', { pinned: 4096 }), 'EINVAL', /params\.pinned must be a path/);
  });

  test('map sizes outside 1 to 2^32-1 are refused by the request schema before libbpf sees them', async () => {
    for (const maxEntries of [0, -1, 2 ** 32, 1.5, '10']) {
      await refused(request('load', { object, mapSizes: { syscalls: { maxEntries } } }), 'EINVAL', /params\.mapSizes\.syscalls\.maxEntries must be (an integer|between 1 and 4294967295)/);
    }
    await refused(request('verify', { object, mapSizes: { syscalls: { valueSize: 0 } } }), 'EINVAL', /params\.mapSizes\.syscalls\.valueSize must be between 1 and 4294967295/);
  });

  test('lines that are not request objects get an error reply: null (a TypeError), a list, a string, bad JSON', async () => {
    for (const line of ['null', '[]', '"hello"', '{"id":1,', '{"id":-3,"method":"hello"}', '{"id":"1","method":"hello"}']) await refused(`${line}\n`, 'EPROTO');
  });

  test('method names are own keys of the protocol, not of the prototype (toString and constructor answered)', async () => {
    for (const method of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) await refused(request(method, {}), 'ENOMETHOD');
  });

  test('unknown fields, wrong enums, out-of-range integers and NULs in paths are refused', async () => {
    await refused(request('readMap', { id: 4294969270 }), 'EINVAL', /params\.id must be between 1 and 4294967295/);
    await refused(request('readMap', { session: session.session, map: 'syscalls', extra: 1 }), 'EINVAL', /unknown field "extra"/);
    await refused(request('verify', { object, logLevel: 3 }), 'EINVAL', /params\.logLevel must be one of 1, 2/);
    await refused(request('readMap', { pinned: '/sys/fs/bpf/x\u0000y' }), 'EINVAL', /NUL/);
    await refused(request('load', { object, attach: { '*': { pid: 2 ** 40 } } }), 'EINVAL', /params\.attach\.\*\.pid must be between -1 and 4194304/);
  });

  test('a line over the 64 MiB cap is skipped with an error reply, and the next line is served', async () => {
    const huge = Buffer.alloc(65 * 1024 * 1024, 0x20);
    await refused(Buffer.concat([Buffer.from('{"id":7,"method":"hello","params":{"x":"'), huge, Buffer.from('"}}\n')]), 'ETOOLONG');
    const hello = await agent.request('hello', {});
    assert.equal(hello.error, undefined);
  });

  test('a LIBBPF_PIN_BY_NAME map is pinned in a folder of its own session, removed on detach; the next load gets a fresh map', async () => {
    const pinRoot = `/sys/fs/bpf/ebpf-studio-${agent.pid}-${session.session}`;
    assert.ok(existsSync(join(pinRoot, 'last_caller')), `${pinRoot}/last_caller is pinned while the session lives`);
    const second = await agent.request('load', { object, objectName: 'again.bpf.o', noAttach: true });
    assert.equal(second.error, undefined, second.error?.message);
    const again = second.result as LoadResult;
    const pinnedMap = (s: LoadResult) => s.maps.find((m) => m.name === 'last_caller')?.id;
    assert.notEqual(pinnedMap(again), pinnedMap(session), 'the second session does not reuse the first one\'s pinned map');
    assert.ok(existsSync(`/sys/fs/bpf/ebpf-studio-${agent.pid}-${again.session}/last_caller`));
    assert.equal((await agent.request('detach', { session: again.session })).error, undefined);
    assert.equal(existsSync(`/sys/fs/bpf/ebpf-studio-${agent.pid}-${again.session}`), false, 'detach removed the pin and its folder');
    assert.ok(existsSync(join(pinRoot, 'last_caller')), 'the first session keeps its own pin');
  });
});
