// The editor's memory of a cancelled sudo password question (engine/targets/declined-sudo-questions.ts), through the real
// askSudoPassword loop with a sudo check that accepts one password: no vscode needed, nothing run as root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeclinedSudoQuestions } from '../../engine/targets/declined-sudo-questions';
import { askSudoPassword, type SudoPasswordPrompt } from '../../engine/targets/sudo-password';

const check = async (input: string) => (input === 'right\n' ? { code: 0, stderr: '' } : { code: 1, stderr: 'sudo: 1 incorrect password attempt' });
const ask = (declines: DeclinedSudoQuestions, box: SudoPasswordPrompt, target: string) => askSudoPassword(declines.wrap(target, box), { target, user: 'dev' }, check, 'advice');

test('a cancelled question is not asked again for that target until the user acts on it; other targets still ask', async () => {
  const declines = new DeclinedSudoQuestions();
  const shown: string[] = [];
  const box: SudoPasswordPrompt = async (q) => (shown.push(q.target), shown.length === 1 ? undefined : 'right');

  await assert.rejects(ask(declines, box, 'local'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ESUDO');
    assert.match(err.message, /^local: the sudo password question was cancelled.*"eBPF: Verify with Kernel" or "eBPF: Attach Probe" on local\.$/);
    return true;
  });
  await assert.rejects(ask(declines, box, 'local'), /cancelled, so the agent was not started/);
  assert.deepEqual(shown, ['local'], 'the second start (a save) did not show the box');

  assert.equal(await ask(declines, box, 'web1'), 'right', 'another target is asked');
  declines.allow('local');
  assert.equal(await ask(declines, box, 'local'), 'right', 'asked again after an explicit action');
  assert.deepEqual(shown, ['local', 'web1', 'local']);
});

test('a wrong password is not a cancel: asked again in the same start, and the next start asks too', async () => {
  const declines = new DeclinedSudoQuestions();
  const answers = ['wrong', 'right', 'right'];
  let shown = 0;
  const box: SudoPasswordPrompt = async () => answers[shown++];
  assert.equal(await ask(declines, box, 'local'), 'right');
  assert.equal(await ask(declines, box, 'local'), 'right');
  assert.equal(shown, 3);
});
