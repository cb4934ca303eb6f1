// The status lenses a probe's programs get from the sessions attached from its file: attached (with XDP's note),
// not loaded (a variant left out, with why), not attached (why), one per session, none for programs not in one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionProgram } from '../../protocol/agent-rpc';
import { planProgramStatusLenses } from '../../client/src/targets/program-status-lenses';

const program = (name: string, section: string, extra: Partial<SessionProgram>): SessionProgram => ({ name, section, type: 'tracing', id: 0, attached: false, ...extra });

test('each program of a session gets its state on its SEC line, the reason whole in the tooltip', () => {
  const longReason = `variant of count_btf (tp_btf/sys_enter) for the same event; tp_btf was chosen because tp_btf reads the tracepoint's typed arguments through BTF and is the fastest`;
  const lenses = planProgramStatusLenses(
    [
      { name: 'count_btf', section: 'tp_btf/sys_enter', line: 10 },
      { name: 'count_raw', section: 'raw_tp/sys_enter', line: 20 },
      { name: 'pass', section: 'xdp', line: 30 },
      { name: 'never_loaded', section: 'xdp', line: 40 },
    ],
    [{
      target: 'local',
      session: 's1',
      programs: [
        program('count_btf', 'tp_btf/sys_enter', { attached: true, id: 42 }),
        program('count_raw', 'raw_tp/sys_enter', { notLoaded: longReason }),
        program('pass', 'xdp', { attachError: 'xdp needs a network interface' }),
      ],
    }],
  );
  assert.deepEqual(lenses.map((l) => [l.line, l.title, l.target]), [
    [10, '$(debug-start) attached on local, id 42', 'local'],
    [20, `$(circle-slash) not loaded on local: ${longReason.slice(0, 89)}…`, 'local'],
    [30, '$(error) not attached on local: xdp needs a network interface', 'local'],
  ]);
  assert.ok(lenses[1].title.endsWith('…') && lenses[1].tooltip === longReason);
});

test('no session from the file, no status lens', () => {
  assert.deepEqual(planProgramStatusLenses([{ name: 'p', section: 'xdp', line: 1 }], []), []);
});
