// Kernel test of the tcp-connect-latency template: this process connects a known number of times to a listener
// on 127.0.0.1 and the histogram counts each, with one ring-buffer event per connection naming both ends.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { cString, histogramTotal, missingPrerequisite, TemplateSession, waitFor } from './template-session';

const CONNECTS = 8;
const AF_INET = 2;

function decode(record: Buffer) {
  return {
    saddr: [...record.subarray(0, 4)].join('.'),
    daddr: [...record.subarray(16, 20)].join('.'),
    latencyNs: record.readBigUInt64LE(32),
    tgid: record.readUInt32LE(40),
    family: record.readUInt16LE(44),
    lport: record.readUInt16LE(46),
    dport: record.readUInt16LE(48),
    comm: cString(record.subarray(50, 66)),
  };
}

describe('tcp-connect-latency template', { skip: missingPrerequisite() }, () => {
  it('times each connect of this process to the chosen port', async () => {
    const server = createServer((s) => s.destroy());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const session = await TemplateSession.start('tcp-connect-latency', { pid: String(process.pid), port: String(port), unit: 'ns' });
    try {
      await session.streamEvents('events');
      const localPorts: number[] = [];
      for (let i = 0; i < CONNECTS; i++) {
        const socket = connect({ host: '127.0.0.1', port });
        await once(socket, 'connect');
        localPorts.push(socket.localPort as number);
        socket.destroy();
      }
      const events = await waitFor(`${CONNECTS} connect events`, () => {
        const all = session.recordsOf('events').map(decode);
        return all.length >= CONNECTS ? all : undefined;
      });
      assert.equal(events.length, CONNECTS);
      for (const event of events) {
        assert.deepEqual(
          { saddr: event.saddr, daddr: event.daddr, family: event.family, dport: event.dport, tgid: event.tgid, comm: event.comm },
          { saddr: '127.0.0.1', daddr: '127.0.0.1', family: AF_INET, dport: port, tgid: process.pid, comm: 'node' },
        );
        assert.ok(event.latencyNs > 0n);
      }
      assert.deepEqual(events.map((e) => e.lport).sort(), [...localPorts].sort());
      const [hist] = await session.mapEntries('hists');
      assert.equal(histogramTotal(hist.value), CONNECTS);
    } finally {
      await session.stop();
      server.close();
    }
  });
});
