// `npm run record:corpus`: verifies every test/fixtures/corpus/*.bpf.c with this machine's kernel and writes
// expected.json (kernel release, verdict, kernel message, kernel line), keeping the hand-written fix lines.
// Talks to corpus-verdicts.ts.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, release } from 'node:os';
import { corpusDir, expectedPath, verifyProbeAsync, vmlinuxIncludeDir, type ProbeVerdict } from './corpus-verdicts';

export interface CorpusEntry extends ProbeVerdict {
  /** The exact kernel build (`uname -r`) the verdict was recorded on: another build's verifier may decide otherwise. */
  kernelRelease: string;
  /** The line a human would fix, when it is not the line the kernel names. */
  fixLine?: number;
  /** Why the fix line differs from the kernel's line. */
  fixReason?: string;
}

export type CorpusRecord = Record<string, CorpusEntry>;

export function corpusFiles(): string[] {
  return readdirSync(corpusDir)
    .filter((name) => name.endsWith('.bpf.c'))
    .sort();
}

export function readExpected(): CorpusRecord {
  return existsSync(expectedPath) ? (JSON.parse(readFileSync(expectedPath, 'utf8')) as CorpusRecord) : {};
}

/** Verifies every corpus probe (a few at a time); `only` limits the run to some file names. */
export async function recordCorpus(only?: string[]): Promise<CorpusRecord> {
  const includeDir = vmlinuxIncludeDir();
  const previous = readExpected();
  const names = corpusFiles();
  const verdicts = new Map<string, ProbeVerdict>();
  const pending = names.filter((name) => !only || only.length === 0 || only.includes(name));
  const workers = Array.from({ length: Math.max(1, Math.min(4, availableParallelism())) }, async () => {
    for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
      verdicts.set(name, await verifyProbeAsync(join(corpusDir, name), includeDir));
    }
  });
  await Promise.all(workers);
  const record: CorpusRecord = {};
  for (const name of names) {
    const verdict = verdicts.get(name);
    const kept = previous[name];
    if (!verdict) {
      if (kept) record[name] = kept;
      continue;
    }
    record[name] = { kernelRelease: release(), ...verdict };
    if (kept?.fixLine !== undefined) {
      record[name].fixLine = kept.fixLine;
      record[name].fixReason = kept.fixReason;
    }
  }
  return record;
}

async function main(): Promise<void> {
  const record = await recordCorpus(process.argv.slice(2));
  writeFileSync(expectedPath, JSON.stringify(record, null, 2) + '\n');
  for (const [name, entry] of Object.entries(record)) {
    const where = entry.line !== undefined ? `:${entry.line}` : '';
    console.log(`${entry.verdict.padEnd(13)} ${name}${where}  ${entry.message}`);
  }
  const counts = Object.values(record).reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.verdict]: (acc[e.verdict] ?? 0) + 1 }), {});
  console.log(`\n${Object.keys(record).length} probes: ${JSON.stringify(counts)} → ${expectedPath}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  });
}
