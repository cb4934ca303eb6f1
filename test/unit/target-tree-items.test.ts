// Rows of the "eBPF Targets" tree from target states: configured targets first, then others seen; sessions with
// their programs (attach errors as tooltips) and non-internal maps; contextValues the manifest's menus match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { targetRows } from '../../client/src/targets/target-tree-items';
import type { TargetState } from '../../engine/targets/target-sessions';

const attached: TargetState = {
  name: 'web1',
  status: 'attached',
  sessions: [
    {
      session: 's1', objectName: 'probe.bpf.o', statsEnabled: true, streams: ['events'],
      programs: [
        { name: 'count', section: 'tracepoint/syscalls/sys_enter_openat', type: 'tracepoint', id: 41, attached: true },
        { name: 'kp', section: 'kprobe/do_sys_openat2', type: 'kprobe', id: 42, attached: false, attachError: 'no CONFIG_KPROBES' },
      ],
      maps: [
        { name: 'counts', id: 7, type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024, internal: false },
        { name: 'events', id: 8, type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, internal: false },
        { name: 'probe.rodata', id: 9, type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, internal: true },
      ],
    },
  ],
};

test('targets: configured names first, idle ones as not connected, the current one marked', () => {
  const rows = targetRows(['local', 'web1', 'web2'], [attached, { name: 'ssh://x@y', status: 'failed', message: 'refused', sessions: [] }], 'web1');
  assert.deepEqual(rows.map((r) => [r.label, r.contextValue]), [['local', 'target.idle'], ['web1', 'target.attached'], ['web2', 'target.idle'], ['ssh://x@y', 'target.failed']]);
  assert.match(rows[1].description ?? '', /^current · attached/);
  assert.match(rows[3].tooltip ?? '', /refused/);
});

test('sessions list programs (with why not attached) and only the maps users read', () => {
  const [session] = targetRows(['web1'], [attached], 'local')[0].children;
  assert.equal(session.contextValue, 'session');
  assert.match(session.description ?? '', /1\/2 attached · streaming events/);
  const kinds = session.children.map((c) => `${c.contextValue}:${c.label}`);
  assert.deepEqual(kinds, ['program.attached:count', 'program.failed:kp', 'map.hash:counts', 'map.ringbuf:events']);
  assert.equal(session.children[1].tooltip, 'no CONFIG_KPROBES');
  assert.deepEqual([session.children[2].targetName, session.children[2].session, session.children[2].map], ['web1', 's1', 'counts']);
});

test('each map shows its Open actions as rows, not only on hover', () => {
  const [session] = targetRows(['web1'], [attached], 'local')[0].children;
  const actions = (map: string) => session.children.find((c) => c.map === map && c.contextValue.startsWith('map.'))?.children.map((a) => [a.label, a.command?.id, a.map]);
  assert.deepEqual(actions('counts'), [['Open Histogram', 'ebpfStudio.openHistogram', 'counts'], ['Open Map', 'ebpfStudio.openMapView', 'counts']]);
  assert.deepEqual(actions('events'), [['Open Events', 'ebpfStudio.openEvents', 'events']]);
});
