// The typed agent client over an in-memory byte stream: responses by id, events, agent errors, timeouts, and
// a clear error for every pending request when the stream closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { AgentClient } from '../../engine/targets/agent-client';

/** A fake agent: `requests` receives what the client writes; `reply` writes lines back. */
function fakeAgent() {
  const toAgent = new PassThrough();
  const fromAgent = new PassThrough();
  const stream = Duplex.from({ readable: fromAgent, writable: toAgent });
  const requests: { id: number; method: string }[] = [];
  let buffered = '';
  toAgent.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      requests.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
  });
  return { stream, requests, reply: (message: object) => fromAgent.write(`${JSON.stringify(message)}\n`), end: () => fromAgent.end() };
}

const HELLO = { kernelRelease: '6.18', arch: 'x86_64', btfPresent: true, libbpfVersion: 'v1.1.2', agentVersion: '0.1.0', uid: 0 };
const SHA = 'ab'.repeat(32);

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
};

test('responses match requests by id, even out of order and split across chunks', async () => {
  const agent = fakeAgent();
  const client = new AgentClient(agent.stream, { targetName: 'test' });
  const first = client.request('hello', {});
  const second = client.request('btf', {});
  await until(() => agent.requests.length === 2);
  agent.reply({ id: agent.requests[1].id, result: { btf: 'AA==', sha256: SHA } });
  const line = JSON.stringify({ id: agent.requests[0].id, result: HELLO });
  agent.stream.push(Buffer.from(line.slice(0, 10)));
  agent.stream.push(Buffer.from(`${line.slice(10)}\n`));
  assert.deepEqual(await second, { btf: 'AA==', sha256: SHA });
  assert.equal((await first).kernelRelease, '6.18');
});

test('events reach listeners; agent errors keep their message and code', async () => {
  const agent = fakeAgent();
  const client = new AgentClient(agent.stream, { targetName: 'test' });
  const events: unknown[] = [];
  client.onEvent((e) => events.push(e));
  agent.reply({ event: 'records', session: 's', map: 'events', records: [], dropped: 3 });
  const failing = client.request('verify', { object: 'AA==' });
  await until(() => agent.requests.length === 1);
  agent.reply({ id: agent.requests[0].id, error: { message: 'probe.bpf.o has no BPF programs', code: 'ENOPROGRAMS' } });
  await assert.rejects(failing, { message: 'probe.bpf.o has no BPF programs', code: 'ENOPROGRAMS' });
  assert.deepEqual(events, [{ event: 'records', session: 's', map: 'events', records: [], dropped: 3 }]);
});

test('a request times out with a message naming the method and target', async () => {
  const client = new AgentClient(fakeAgent().stream, { targetName: 'web1' });
  await assert.rejects(client.request('hello', {}, { timeoutMs: 20 }), { code: 'ETIMEDOUT', message: /agent on web1 did not answer "hello"/ });
});

test('the stream closing fails every pending request clearly, and later requests at once', async () => {
  const agent = fakeAgent();
  const client = new AgentClient(agent.stream, { targetName: 'web1', closeReason: () => 'sudo: a password is required' });
  const pending = client.request('verify', { object: 'AA==' });
  agent.end();
  await assert.rejects(pending, { code: 'ECLOSED', message: /closed while waiting for "verify": sudo: a password is required/ });
  assert.match(await client.closed, /sudo: a password is required/);
  assert.equal(client.isClosed, true);
  await assert.rejects(client.request('hello', {}), /not running/);
});

test('lines that are not replies (null, a list, a number, an unknown id) are ignored; the reply after them is used', async () => {
  const agent = fakeAgent();
  const client = new AgentClient(agent.stream, { targetName: 'test' });
  const hello = client.request('hello', {});
  await until(() => agent.requests.length === 1);
  for (const line of ['null', '[]', '7', '"x"', '{"id":"1"}', '{"id":99,"result":{}}', '{"event":null}', '{"event":"records","records":5}']) agent.stream.push(Buffer.from(`${line}\n`));
  agent.reply({ id: agent.requests[0].id, result: HELLO });
  assert.deepEqual(await hello, HELLO);
});

test('a reply whose result does not fit the schema fails its request with what is wrong, not later in the caller', async () => {
  const agent = fakeAgent();
  const client = new AgentClient(agent.stream, { targetName: 'web1' });
  const btf = client.request('btf', {});
  const hello = client.request('hello', {});
  const error = client.request('sessions', {});
  await until(() => agent.requests.length === 3);
  // A path where the cache expects a hash: the client must never use it.
  agent.reply({ id: agent.requests[0].id, result: { btf: 'AA==', sha256: '../../../../x' } });
  agent.reply({ id: agent.requests[1].id, result: { ...HELLO, uid: 'root' } });
  agent.reply({ id: agent.requests[2].id, error: { message: 5 } });
  await assert.rejects(btf, { code: 'EPROTO', message: /agent on web1 sent a malformed reply to "btf": result\.sha256 must be a sha256/ });
  await assert.rejects(hello, { code: 'EPROTO', message: /result\.uid must be an integer/ });
  await assert.rejects(error, { code: 'EPROTO', message: /error\.message must be a string/ });
});

test('a request that breaks the schema is refused before it is sent', async () => {
  const agent = fakeAgent();
  const client = new AgentClient(agent.stream, { targetName: 'test' });
  await assert.rejects(client.request('readMap', { id: 4294969270 }), { code: 'EINVAL', message: /params\.id must be between 1 and 4294967295/ });
  await assert.rejects(client.request('load', { object: 'AA==', objectName: 5 as never }), { code: 'EINVAL', message: /params\.objectName must be a string/ });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(agent.requests.length, 0);
});

test('a reply line over the cap ends the connection with the reason instead of filling memory', async () => {
  const agent = fakeAgent();
  const client = new AgentClient(agent.stream, { targetName: 'test' });
  const pending = client.request('hello', {});
  const chunk = Buffer.alloc(64 * 1024 * 1024, 0x61);
  // MAX_REPLY_LINE_BYTES is 500 MiB: 8 chunks of 64 MiB without a newline pass it; none is kept.
  for (let i = 0; i < 8 && !client.isClosed; i++) agent.stream.push(chunk);
  await assert.rejects(pending, { code: 'ECLOSED', message: /sent a line longer than the 524288000 bytes a reply may have/ });
});

test('an agent stopped by close() that exits normally "was stopped"; one that dies on its own "exited: …"', async () => {
  const asked = fakeAgent();
  const stopped = new AgentClient(asked.stream, { targetName: 'local', closeReason: () => 'exit code 0' });
  asked.stream.on('finish', () => asked.end());
  await stopped.close();
  assert.equal(await stopped.closed, 'was stopped');

  const crashed = fakeAgent();
  const lost = new AgentClient(crashed.stream, { targetName: 'local', closeReason: () => 'exit code 0' });
  crashed.end();
  assert.equal(await lost.closed, 'exited: exit code 0');
});
