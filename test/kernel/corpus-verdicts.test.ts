// Re-verifies every accuracy-corpus probe with this machine's kernel and checks expected.json still holds:
// same verdict and same kernel-named line. Talks to clang-19, bpftool and the kernel verifier (root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordCorpus, readExpected } from '../../scripts/record-corpus';
import { skipUnlessReady } from './kernel-prerequisites';


const skip = skipUnlessReady('corpus-verdicts');

test('every corpus probe gets the recorded verdict and line from this kernel', { skip, timeout: 600_000 }, async () => {
  const expected = readExpected();
  const actual = await recordCorpus();
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), 'expected.json lists every corpus file');
  const mismatches: string[] = [];
  for (const [name, entry] of Object.entries(expected)) {
    const now = actual[name];
    if (now.verdict !== entry.verdict || now.line !== entry.line) {
      mismatches.push(`${name}: recorded ${entry.verdict}:${entry.line ?? '-'}, kernel now ${now.verdict}:${now.line ?? '-'} (${now.message})`);
    }
  }
  assert.deepEqual(mismatches, [], 'run `npm run record:corpus` if the kernel changed on purpose');
  const rejected = Object.values(actual).filter((e) => e.verdict !== 'accepted').length;
  assert.ok(rejected >= 20 && Object.keys(actual).length - rejected >= 20, 'the corpus keeps at least 20 rejected and 20 accepted probes');
});
