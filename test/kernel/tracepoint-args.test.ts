// The tp_btf argument table the static rules use (server/src/kernel/generated/tracepoint-args.json), checked against
// this kernel's BTF read in the same run; strictly on the kernel version the table was read on. Talks to bpftool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import committed from '../../server/src/kernel/generated/tracepoint-args.json';
import { readTracepointArgs } from '../../scripts/gen-tracepoint-args';
import { skipUnlessReady } from './kernel-prerequisites';

const skip = skipUnlessReady('tracepoint argument table');
const version = (kernelRelease: string) => /^\d+\.\d+/.exec(kernelRelease)?.[0];

test('every tracepoint in the table passes the arguments this kernel\'s BTF says it does', { skip }, () => {
  const live = readTracepointArgs();
  const table = committed.tracepoints as Record<string, string[]>;
  const differing = Object.keys(live.tracepoints).filter((name) => name in table && JSON.stringify(table[name]) !== JSON.stringify(live.tracepoints[name]));
  const missing = Object.keys(live.tracepoints).filter((name) => !(name in table));
  assert.ok(Object.keys(live.tracepoints).length > 500, `only ${Object.keys(live.tracepoints).length} btf_trace_ types in this kernel's BTF`);
  if (version(committed.kernelRelease) !== version(release())) {
    console.log(`table read on ${committed.kernelRelease}, this is ${release()}: ${differing.length} tracepoints differ, ${missing.length} not in the table`);
    return;
  }
  assert.deepEqual(differing, [], `tracepoints whose arguments differ from ${committed.kernelRelease}'s table: regenerate it (npx tsx scripts/gen-tracepoint-args.ts)`);
  assert.deepEqual(missing, [], 'tracepoints missing from the table: regenerate it');
});
