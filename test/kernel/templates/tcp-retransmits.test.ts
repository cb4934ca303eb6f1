// Kernel test of the tcp-retransmits template: connects to an address on a veth link whose frames the peer
// drops, so the SYN is retransmitted, and finds the retransmits counted under that local and remote address.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { missingPrerequisite, TemplateSession, waitFor } from './template-session';
import { createVethNetns, namespaceExists } from './veth-netns';

const PORT = 4242;
const AF_INET = 2;

const ipv4 = (bytes: Buffer) => [...bytes.subarray(0, 4)].join('.');

describe('tcp-retransmits template', { skip: missingPrerequisite() }, () => {
  it('counts SYN retransmits by local address, remote address and port', async () => {
    const net = createVethNetns();
    let session: TemplateSession | undefined;
    const socket = connect({ host: net.silentAddr, port: PORT, localAddress: net.hostAddr, autoSelectFamily: false });
    socket.on('error', () => undefined);
    try {
      session = await TemplateSession.start('tcp-retransmits', { port: String(PORT) });
      const active = session;
      // The first SYN retransmit comes after the initial RTO of 1 s.
      const entry = await waitFor(
        'a retransmit of the SYN',
        async () => (await active.mapEntries('retransmits')).find((e) => ipv4(e.key.subarray(16, 32)) === net.silentAddr),
        15_000,
      );
      assert.equal(ipv4(entry.key.subarray(0, 16)), net.hostAddr);
      assert.equal(entry.key.readUInt16LE(32), AF_INET);
      assert.equal(entry.key.readUInt16LE(34), PORT);
      assert.ok(entry.value.readBigUInt64LE(0) >= 1n);
      assert.equal(socket.readyState, 'opening');
    } finally {
      socket.destroy();
      await session?.stop();
      net.remove();
    }
    assert.equal(namespaceExists(net.namespace), false);
  });
});
