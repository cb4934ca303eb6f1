// Reads eBPF Studio's output channels of a code-server session as VS Code logged them to disk (the "eBPF Studio"
// channel, and each target's "eBPF: <target>" channel, under the session's user-data logs folder).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Text of every log file under `userDataDir`/logs whose path `isChannel` accepts ('' before any). */
function channelLogs(userDataDir: string, isChannel: (path: string) => boolean): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const path = join(dir, n);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  const logsDir = join(userDataDir, 'logs');
  if (!existsSync(logsDir)) return '';
  return walk(logsDir)
    .filter(isChannel)
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n');
}

/** The eBPF Studio channel. */
export function studioLog(userDataDir: string): string {
  return channelLogs(userDataDir, (p) => p.endsWith('eBPF Studio.log'));
}

/** The channel of the target `local` ("eBPF: local"). */
export function localTargetLog(userDataDir: string): string {
  return channelLogs(userDataDir, (p) => /eBPF[^/]*local[^/]*\.log$/.test(p));
}
