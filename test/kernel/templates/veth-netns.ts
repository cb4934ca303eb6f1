// Test network for the networking templates: a network namespace the test makes, joined to this namespace by a
// veth pair (host end here, peer end inside) on a private /29; remove() deletes the namespace and with it both ends.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface VethNetns {
  namespace: string;
  /** The end in this (the root) namespace, where the agent can attach XDP and tc by name. */
  hostIf: string;
  peerIf: string;
  hostAddr: string;
  peerAddr: string;
  /** An address on the link that no one answers: frames to it reach the peer and are dropped there. */
  silentAddr: string;
  /** Runs a Node.js script inside the namespace; resolves with its stdout when it exits 0. */
  runInNamespace(script: string, timeoutMs?: number): Promise<string>;
  /** Starts a Node.js script inside the namespace and returns the child, for workloads the test stops itself. */
  startInNamespace(script: string): ChildProcess;
  remove(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createVethNetns(): VethNetns {
  const tag = randomBytes(3).toString('hex');
  const namespace = `ebpfst-${tag}`;
  const hostIf = `vh${tag}`;
  const peerIf = `vp${tag}`;
  const subnet = `10.${200 + (randomBytes(1)[0] % 50)}.${randomBytes(1)[0]}`;
  const hostAddr = `${subnet}.1`;
  const peerAddr = `${subnet}.2`;
  const silentAddr = `${subnet}.5`;
  ip('netns', 'add', namespace);
  const remove = () => {
    execFileSync('ip', ['netns', 'delete', namespace], { stdio: 'ignore' });
  };
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf, 'netns', namespace);
    ip('addr', 'add', `${hostAddr}/29`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', namespace, 'addr', 'add', `${peerAddr}/29`, 'dev', peerIf);
    ip('-n', namespace, 'link', 'set', peerIf, 'up');
    ip('-n', namespace, 'link', 'set', 'lo', 'up');
    // A neighbour entry with a MAC nobody has: frames to silentAddr leave hostIf and are dropped by the peer.
    ip('neigh', 'replace', silentAddr, 'lladdr', '02:00:00:00:00:05', 'dev', hostIf, 'nud', 'permanent');
  } catch (err) {
    remove();
    throw err;
  }
  const startInNamespace = (script: string) => spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const runInNamespace = (script: string, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const child = startInNamespace(script);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill(), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout);
        else reject(new Error(`script in ${namespace} exited ${code}: ${stderr.trim()}`));
      });
    });
  return { namespace, hostIf, peerIf, hostAddr, peerAddr, silentAddr, runInNamespace, startInNamespace, remove };
}

/** Whether a network namespace of that name still exists. */
export function namespaceExists(namespace: string): boolean {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .some((line) => line.split(' ')[0] === namespace);
}
