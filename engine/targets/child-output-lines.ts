// What a child process (the local agent or sudo, QEMU and its guest console) writes on its output streams, as lines:
// each handed to a callback as it completes, the last few kept for the message when the child fails. Talks to streams.
import type { Readable } from 'node:stream';

export class ChildOutputLines {
  private readonly kept: string[] = [];

  constructor(
    private readonly keep: number,
    private readonly onLine?: (line: string) => void,
  ) {}

  /** Reads `stream` line by line (\n or \r\n; empty lines skipped); a last line without a newline counts at its end. */
  follow(stream: Readable | null | undefined): void {
    if (!stream) return;
    let partial = '';
    stream.setEncoding('utf8').on('data', (text: string) => {
      const lines = (partial + text).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.take(line);
    });
    stream.on('end', () => this.take(partial));
  }

  /** The last `count` lines (at most as many as are kept). */
  last(count: number): string[] {
    return this.kept.slice(-count);
  }

  private take(line: string): void {
    if (!line) return;
    this.kept.push(line);
    if (this.kept.length > this.keep) this.kept.shift();
    this.onLine?.(line);
  }
}
