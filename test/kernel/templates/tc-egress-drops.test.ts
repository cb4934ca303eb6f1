// Kernel test of the tc-egress-drops template: on the host end of a veth pair into a namespace the test makes,
// drops UDP to one port and passes UDP to another; the receiver inside sees only the passed ones, the map both.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { missingPrerequisite, TemplateSession, waitFor, type MapEntry } from './template-session';
import { createVethNetns, namespaceExists } from './veth-netns';

const DROPPED_PORT = 7001;
const PASSED_PORT = 7002;
const TO_DROP = 15;
const TO_PASS = 5;
const IPPROTO_UDP = 17;

function verdict(entries: MapEntry[], ipProto: number, dropped: boolean): { packets: number; bytes: number } {
  const entry = entries.find((e) => e.key.readUInt8(0) === ipProto && e.key.readUInt8(1) === (dropped ? 1 : 0));
  return entry ? { packets: Number(entry.value.readBigUInt64LE(0)), bytes: Number(entry.value.readBigUInt64LE(8)) } : { packets: 0, bytes: 0 };
}

describe('tc-egress-drops template', { skip: missingPrerequisite() }, () => {
  it('drops and counts outgoing UDP to the chosen port, and passes the rest', async () => {
    const net = createVethNetns();
    let session: TemplateSession | undefined;
    const receiver = net.startInNamespace(
      `const dgram = require('dgram'); const got = { ${DROPPED_PORT}: 0, ${PASSED_PORT}: 0 }; let bound = 0;
       for (const port of [${DROPPED_PORT}, ${PASSED_PORT}]) {
         const s = dgram.createSocket('udp4');
         s.on('message', () => { got[port]++; if (got[${PASSED_PORT}] === ${TO_PASS}) { console.log(JSON.stringify(got)); process.exit(0); } });
         s.bind(port, '${net.peerAddr}', () => { if (++bound === 2) console.log('ready'); });
       }`,
    );
    try {
      let output = '';
      receiver.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      const exited = once(receiver, 'exit');
      await waitFor('the receiver in the namespace to listen', () => output.includes('ready'));
      session = await TemplateSession.start('tc-egress-drops', { interface: net.hostIf, protocol: String(IPPROTO_UDP), port: String(DROPPED_PORT) });

      const sender = createSocket('udp4');
      const send = (port: number) => new Promise((resolve) => sender.send(Buffer.alloc(64), port, net.peerAddr, resolve));
      for (let i = 0; i < TO_DROP; i++) await send(DROPPED_PORT);
      for (let i = 0; i < TO_PASS; i++) await send(PASSED_PORT);
      sender.close();

      await exited;
      const got = JSON.parse(output.split('\n').find((l) => l.startsWith('{')) ?? '{}');
      assert.deepEqual(got, { [DROPPED_PORT]: 0, [PASSED_PORT]: TO_PASS });
      const active = session;
      const entries = await waitFor('drop counts', async () => {
        const all = await active.mapEntries('verdicts');
        return verdict(all, IPPROTO_UDP, true).packets >= TO_DROP ? all : undefined;
      });
      assert.deepEqual(verdict(entries, IPPROTO_UDP, true), { packets: TO_DROP, bytes: TO_DROP * (14 + 20 + 8 + 64) });
      assert.equal(verdict(entries, IPPROTO_UDP, false).packets, TO_PASS);
    } finally {
      if (receiver.exitCode === null) receiver.kill();
      await session?.stop();
      net.remove();
    }
    assert.equal(namespaceExists(net.namespace), false);
  });
});
