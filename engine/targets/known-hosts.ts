// Host-key verification against an OpenSSH known_hosts file: plain, pattern and hashed (|1|salt|hash)
// entries, @revoked markers, SHA256 fingerprints, and appending a newly accepted key. Reads/writes the file only.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface HostKey {
  /** Key type as written in the key blob, e.g. ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa. */
  type: string;
  /** The raw public key blob (SSH wire format). */
  blob: Buffer;
}

export type HostKeyVerdict =
  | { kind: 'known' }
  | { kind: 'unknown'; otherTypesKnown: string[] }
  | { kind: 'mismatch'; knownFingerprint: string; line: number }
  | { kind: 'revoked'; line: number };

interface KnownHostsEntry {
  line: number;
  marker: '' | '@revoked' | '@cert-authority';
  hostPatterns: string;
  type: string;
  blob: Buffer;
}

/** Reads the key type out of an SSH public key blob (first length-prefixed string). */
export function hostKeyFromBlob(blob: Buffer): HostKey {
  if (blob.length < 4) throw new Error('host key blob is too short');
  const len = blob.readUInt32BE(0);
  return { type: blob.subarray(4, 4 + len).toString('latin1'), blob };
}

/** OpenSSH's SHA256 fingerprint: "SHA256:" + unpadded base64 of the blob's SHA-256. */
export function sha256Fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The host name as known_hosts writes it: "host" on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function parseEntries(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'] = '';
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostsEntry['marker'];
    if (fields.length < 3) return;
    const [hostPatterns, type, b64] = fields;
    const blob = Buffer.from(b64, 'base64');
    if (blob.length === 0) return;
    entries.push({ line: index + 1, marker, hostPatterns, type, blob });
  });
  return entries;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function hashedMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const expected = parts[3];
  return createHmac('sha1', salt).update(name).digest('base64') === expected;
}

/** Whether an entry's host field names this host (OpenSSH semantics: comma list, globs, !negation). */
function entryMatchesHost(hostPatterns: string, names: string[]): boolean {
  if (hostPatterns.startsWith('|1|')) return names.some((n) => hashedMatches(hostPatterns, n));
  let matched = false;
  for (const pattern of hostPatterns.split(',')) {
    const negated = pattern.startsWith('!');
    const re = globToRegExp(negated ? pattern.slice(1) : pattern);
    if (names.some((n) => re.test(n))) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

export class KnownHosts {
  constructor(readonly path: string) {}

  private entries(): KnownHostsEntry[] {
    if (!existsSync(this.path)) return [];
    return parseEntries(readFileSync(this.path, 'utf8'));
  }

  /** Key types already known for this host, so the client can prefer them during key exchange. */
  knownTypes(host: string, port: number): string[] {
    const names = [knownHostsName(host, port)];
    const types = this.entries()
      .filter((e) => e.marker === '' && entryMatchesHost(e.hostPatterns, names))
      .map((e) => e.type);
    return [...new Set(types)];
  }

  verify(host: string, port: number, key: HostKey): HostKeyVerdict {
    const names = [knownHostsName(host, port)];
    const entries = this.entries();
    const revoked = entries.find((e) => e.marker === '@revoked' && e.blob.equals(key.blob));
    if (revoked) return { kind: 'revoked', line: revoked.line };
    const forHost = entries.filter((e) => e.marker === '' && entryMatchesHost(e.hostPatterns, names));
    if (forHost.some((e) => e.type === key.type && e.blob.equals(key.blob))) return { kind: 'known' };
    const sameType = forHost.find((e) => e.type === key.type);
    if (sameType) return { kind: 'mismatch', knownFingerprint: sha256Fingerprint(sameType.blob), line: sameType.line };
    return { kind: 'unknown', otherTypesKnown: [...new Set(forHost.map((e) => e.type))] };
  }

  /** Appends the key for this host; hashed like `HashKnownHosts yes` unless told otherwise. */
  add(host: string, port: number, key: HostKey, hashed = true): void {
    const name = knownHostsName(host, port);
    let field = name;
    if (hashed) {
      const salt = randomBytes(20);
      field = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
    }
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const existing = existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
    appendFileSync(this.path, `${separator}${field} ${key.type} ${key.blob.toString('base64')}\n`, { mode: 0o600 });
  }
}

/** A user-facing explanation of a refused host key. */
export function describeRefusal(host: string, port: number, key: HostKey, verdict: HostKeyVerdict, path: string): string {
  const fp = sha256Fingerprint(key.blob);
  const where = knownHostsName(host, port);
  if (verdict.kind === 'mismatch') {
    return (
      `Host key for ${where} has CHANGED: the server offered ${key.type} ${fp}, but ${path}:${verdict.line} ` +
      `records ${verdict.knownFingerprint}. This can mean someone is intercepting the connection, or the host was ` +
      `reinstalled. Connection refused. If the change is expected, remove the old key with ` +
      `\`ssh-keygen -R '${where}' -f ${path}\` and connect again.`
    );
  }
  if (verdict.kind === 'revoked') {
    return `Host key ${key.type} ${fp} of ${where} is marked @revoked in ${path}:${verdict.line}. Connection refused.`;
  }
  return `Host key ${key.type} ${fp} of ${where} was not accepted. Connection refused.`;
}
