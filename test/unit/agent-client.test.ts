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

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
};

test('responses match requests by id, even out of order and split across chunks', async () => {
  const agent = fakeAgent();
  const client = new AgentClient(agent.stream, { targetName: 'test' });
  const first = client.request('hello', {});
  const second = client.request('btf', {});
  await until(() => agent.requests.length === 2);
  agent.reply({ id: agent.requests[1].id, result: { btf: 'AA==', sha256: 'x' } });
  const line = JSON.stringify({ id: agent.requests[0].id, result: { kernelRelease: '6.18' } });
  agent.stream.push(Buffer.from(line.slice(0, 10)));
  agent.stream.push(Buffer.from(`${line.slice(10)}\n`));
  assert.deepEqual(await second, { btf: 'AA==', sha256: 'x' });
  assert.equal((await first).kernelRelease, '6.18');
});

test('events reach listeners; agent errors keep their message and code', async () => {
  const agent = fakeAgent();
  const client = new AgentClient(agent.stream, { targetName: 'test' });
  const events: unknown[] = [];
  client.onEvent((e) => events.push(e));
  agent.reply({ event: 'records', session: 's', map: 'events', records: [], dropped: 3 });
  const failing = client.request('verify', { object: '' });
  await until(() => agent.requests.length === 1);
  agent.reply({ id: agent.requests[0].id, error: { message: 'verify needs `object`', code: 'EINVAL' } });
  await assert.rejects(failing, { message: 'verify needs `object`', code: 'EINVAL' });
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
