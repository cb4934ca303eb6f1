// Without bpffs at /sys/fs/bpf (a private mount namespace where it is unmounted, as on a fresh machine), reading a
// pinned map says so plainly with the mount command: `maps dump --pinned` and the agent's readMap the live views use.
// Talks to the built CLI and to the agent, each started inside the namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { agentBundle } from './verify/agent-under-test';
import { skipUnless, missingPrerequisite } from './kernel-prerequisites';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const skip = skipUnless(missingPrerequisite() ?? (existsSync(cli) ? undefined : 'the built CLI (npm run build)'), 'the bpffs-missing tests');
const MISSING = 'bpffs is not mounted at /sys/fs/bpf; mount it with: mount -t bpf bpf /sys/fs/bpf';
const PIN = '/sys/fs/bpf/ebpf-studio-test-no-bpffs';

/** Runs a command in a new mount namespace where /sys/fs/bpf is not a mount. */
function withoutBpffs(command: string[]) {
  const unmount = 'while mountpoint -q /sys/fs/bpf; do umount -l /sys/fs/bpf; done';
  return spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', `${unmount}; exec "$@"`, 'sh', ...command], { encoding: 'utf8', cwd: root, timeout: 60_000 });
}

test('maps dump --pinned says bpffs is not mounted and how to mount it', { skip }, () => {
  const run = withoutBpffs([process.execPath, cli, 'maps', 'dump', '--pinned', PIN]);
  assert.notEqual(run.status, 0);
  assert.ok(run.stderr.includes(MISSING), run.stderr);
  assert.equal(run.stdout, '', 'no half document');
});

test('the agent readMap a live view of a pinned map uses says the same, as an error (not "map gone")', { skip }, () => {
  const script = `
    const { connectLocalAgent } = require('./engine/targets/local-transport');
    (async () => {
      const agent = await connectLocalAgent({ agentPath: ${JSON.stringify(agentBundle())} });
      try { await agent.request('readMap', { pinned: ${JSON.stringify(PIN)} }); console.log('{}'); }
      catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message })); }
      finally { await agent.close(); }
    })();`;
  const run = withoutBpffs([process.execPath, '--import', 'tsx', '-e', script]);
  assert.equal(run.status, 0, run.stderr);
  const reply = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { code?: string; message?: string };
  assert.equal(reply.code, 'ENOBPFFS');
  assert.equal(reply.message, `Cannot open ${PIN}: ${MISSING}.`);
});
