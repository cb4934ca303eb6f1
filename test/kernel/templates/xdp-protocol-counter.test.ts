// Kernel test of the xdp-protocol-counter template: attaches it to the host end of a veth pair into a namespace
// the test makes, sends UDP from inside and provokes ICMP replies, and finds both protocols counted; packets pass.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { missingPrerequisite, TemplateSession, waitFor, type MapEntry } from './template-session';
import { createVethNetns, namespaceExists } from './veth-netns';

const DATAGRAMS = 20;
const ETH_P_IP = 0x0800;
const IPPROTO_ICMP = 1;
const IPPROTO_UDP = 17;

function counted(entries: MapEntry[], ethProto: number, ipProto: number): { packets: number; bytes: number } {
  const entry = entries.find((e) => e.key.readUInt16LE(0) === ethProto && e.key.readUInt8(2) === ipProto);
  return entry ? { packets: Number(entry.value.readBigUInt64LE(0)), bytes: Number(entry.value.readBigUInt64LE(8)) } : { packets: 0, bytes: 0 };
}

describe('xdp-protocol-counter template', { skip: missingPrerequisite() }, () => {
  it('counts UDP and ICMP packets and bytes received on the chosen interface, and passes them on', async () => {
    const net = createVethNetns();
    const receiver = createSocket('udp4');
    let session: TemplateSession | undefined;
    try {
      session = await TemplateSession.start('xdp-protocol-counter', { interface: net.hostIf });
      receiver.bind(0, net.hostAddr);
      await once(receiver, 'listening');
      let received = 0;
      receiver.on('message', () => received++);
      const port = receiver.address().port;

      await net.runInNamespace(
        `const s = require('dgram').createSocket('udp4'); let n = 0;
         const next = () => n++ < ${DATAGRAMS} ? s.send(Buffer.alloc(100), ${port}, '${net.hostAddr}', next) : s.close();
         next();`,
      );
      await waitFor(`${DATAGRAMS} datagrams to pass XDP and arrive`, () => received >= DATAGRAMS);
      // A closed port inside the namespace answers with ICMP port unreachable, which arrives on the host end.
      const prober = createSocket('udp4');
      for (let i = 0; i < 3; i++) await new Promise((resolve) => prober.send(Buffer.from('x'), 9, net.peerAddr, resolve));
      prober.close();

      const active = session;
      const entries = await waitFor('UDP and ICMP counts', async () => {
        const all = await active.mapEntries('protocols');
        return counted(all, ETH_P_IP, IPPROTO_UDP).packets >= DATAGRAMS && counted(all, ETH_P_IP, IPPROTO_ICMP).packets >= 1 ? all : undefined;
      });
      const udp = counted(entries, ETH_P_IP, IPPROTO_UDP);
      assert.equal(udp.packets, DATAGRAMS);
      assert.equal(udp.bytes, DATAGRAMS * (14 + 20 + 8 + 100));
      assert.ok(counted(entries, ETH_P_IP, IPPROTO_ICMP).bytes >= 14 + 20 + 8);
    } finally {
      receiver.close();
      await session?.stop();
      net.remove();
    }
    assert.equal(namespaceExists(net.namespace), false);
  });
});
