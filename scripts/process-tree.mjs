// Ends a process and every process it started, each by PID as read from /proc (with its start time, so a reused PID
// is never signalled): SIGTERM first, SIGKILL for whatever still runs after the grace period. Used by run-tests.mjs.
import { readdirSync, readFileSync } from 'node:fs';

/** The parent PID, state and start time of a process, or undefined once it is gone. */
function processStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]), startTime: fields[19] };
  } catch {
    return undefined;
  }
}

function childrenByParent() {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = processStat(name);
    if (!stat) continue;
    const pid = Number(name);
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), { pid, startTime: stat.startTime }]);
  }
  return children;
}

function isRunning({ pid, startTime }) {
  const stat = processStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z';
}

function signal({ pid }, name) {
  try {
    process.kill(pid, name);
  } catch {
    // gone meanwhile
  }
}

/**
 * Signals `rootPid` and all its descendants (new ones are picked up while waiting, before their parent ends and they
 * are re-parented away) and resolves once none runs. Children of this process are reaped by Node's event loop, which
 * keeps turning while this waits.
 */
export async function stopProcessTree(rootPid, graceMs = 10_000) {
  const rootStat = processStat(rootPid);
  if (!rootStat) return;
  const tracked = new Map([[rootPid, { pid: rootPid, startTime: rootStat.startTime }]]);
  const track = (sig) => {
    const children = childrenByParent();
    const queue = [...tracked.values()].filter(isRunning);
    while (queue.length > 0) {
      const parent = queue.shift();
      for (const child of children.get(parent.pid) ?? []) {
        if (tracked.has(child.pid)) continue;
        tracked.set(child.pid, child);
        signal(child, sig);
        queue.push(child);
      }
    }
  };
  track('SIGTERM');
  signal(tracked.get(rootPid), 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while ([...tracked.values()].some(isRunning)) {
    const late = Date.now() > deadline;
    track(late ? 'SIGKILL' : 'SIGTERM');
    if (late) for (const member of tracked.values()) if (isRunning(member)) signal(member, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
