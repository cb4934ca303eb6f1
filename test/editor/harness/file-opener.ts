// A workload process for event tests: it opens one file again and again, so a file-open probe has records to show.
// It talks to nothing but the file system; it exits when killed, when its parent is gone, or after five minutes.
import { spawn, type ChildProcess } from 'node:child_process';

/** Creates `path`, then opens it every 100 ms until killed (or its parent is gone, or five minutes passed). */
export function startOpening(path: string): ChildProcess {
  const script = `const fs = require('node:fs'); const parent = process.ppid; fs.writeFileSync(${JSON.stringify(path)}, 'x');
setTimeout(() => process.exit(), 300000);
setInterval(() => { if (process.ppid !== parent) process.exit(); fs.closeSync(fs.openSync(${JSON.stringify(path)}, 'r')); }, 100);`;
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}
