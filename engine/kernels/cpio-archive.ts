// Writes a "newc" cpio archive (the format the kernel unpacks an initramfs from) of directories, files and
// symlinks given in memory or by host path; talks to nothing but the output file.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

export type CpioEntry =
  | { kind: 'dir'; path: string }
  | { kind: 'file'; path: string; mode: number; data: Buffer }
  | { kind: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function header(ino: number, mode: number, size: number, nameLength: number): string {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return '070701' + [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, nameLength, 0].map(hex).join('');
}

const padding = (length: number) => Buffer.alloc((4 - (length % 4)) % 4);

/** Writes `entries` (parents before children; paths without a leading slash) and the trailer to `path`. */
export function writeCpioArchive(path: string, entries: CpioEntry[]): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    const write = (bytes: Buffer) => {
      writeSync(fd, bytes);
      writeSync(fd, padding(bytes.length));
    };
    const record = (ino: number, mode: number, name: string, data: Buffer) => {
      const nameBytes = Buffer.from(`${name}\0`);
      const head = Buffer.from(header(ino, mode, data.length, nameBytes.length));
      write(Buffer.concat([head, nameBytes]));
      if (data.length) write(data);
    };
    entries.forEach((entry, i) => {
      const name = entry.path.replace(/^\/+/, '');
      if (entry.kind === 'dir') record(i + 1, S_IFDIR | 0o755, name, Buffer.alloc(0));
      else if (entry.kind === 'symlink') record(i + 1, S_IFLNK | 0o777, name, Buffer.from(entry.target));
      else record(i + 1, S_IFREG | entry.mode, name, entry.data);
    });
    record(0, 0, 'TRAILER!!!', Buffer.alloc(0));
  } finally {
    closeSync(fd);
  }
}

/** A host file as an archive entry at `path` (its contents, followed through symlinks). */
export function hostFile(path: string, from: string = path, mode = 0o755): CpioEntry {
  return { kind: 'file', path, mode, data: readFileSync(from) };
}
