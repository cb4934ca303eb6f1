// Reads the eBPF Studio output channel of a code-server session as VS Code logged it to disk
// (every "eBPF Studio.log" under the session's user-data logs folder).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Text of every file under `userDataDir`/logs whose name says it is the eBPF Studio channel ('' before any). */
export function studioLog(userDataDir: string): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const path = join(dir, n);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  const logsDir = join(userDataDir, 'logs');
  if (!existsSync(logsDir)) return '';
  return walk(logsDir)
    .filter((p) => p.endsWith('eBPF Studio.log'))
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n');
}
