// Splits a byte stream into newline-terminated UTF-8 lines with a cap on their length: a longer line is reported
// as soon as it passes the cap and then skipped up to its newline without being held in memory. Used by the agent
// (requests) and its clients (replies).

export interface LineHandlers {
  line(line: string): void;
  /** The current line passed the cap; the rest of it, up to its newline, is dropped. */
  tooLong(): void;
}

export class LineSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private skipping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly handlers: LineHandlers,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (this.buffered + piece.length > this.maxBytes) {
        this.drop();
        this.skipping = false;
        this.handlers.tooLong();
        continue;
      }
      this.chunks.push(piece);
      const line = Buffer.concat(this.chunks).toString('utf8');
      this.drop();
      this.handlers.line(line);
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0 || this.skipping) return;
    if (this.buffered + rest.length > this.maxBytes) {
      this.drop();
      this.skipping = true;
      this.handlers.tooLong();
      return;
    }
    this.chunks.push(rest);
    this.buffered += rest.length;
  }

  private drop(): void {
    this.chunks = [];
    this.buffered = 0;
  }
}
