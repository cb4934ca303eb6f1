// `npm run record:corpus`: verifies every test/fixtures/corpus/*.bpf.c with this machine's kernel and writes
// expected.json (verdict, kernel message, kernel line), keeping the hand-written fix lines. Talks to corpus-verdicts.ts.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, expectedPath, verifyProbe, vmlinuxIncludeDir, type ProbeVerdict } from './corpus-verdicts';

export interface CorpusEntry extends ProbeVerdict {
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

/** Verifies every corpus probe; `only` limits the run to some file names. */
export function recordCorpus(only?: string[]): CorpusRecord {
  const includeDir = vmlinuxIncludeDir();
  const previous = readExpected();
  const record: CorpusRecord = {};
  for (const name of corpusFiles()) {
    if (only && only.length > 0 && !only.includes(name)) {
      if (previous[name]) record[name] = previous[name];
      continue;
    }
    const verdict = verifyProbe(join(corpusDir, name), includeDir);
    const kept = previous[name];
    record[name] = { ...verdict };
    if (kept?.fixLine !== undefined) {
      record[name].fixLine = kept.fixLine;
      record[name].fixReason = kept.fixReason;
    }
  }
  return record;
}

if (require.main === module) {
  const record = recordCorpus(process.argv.slice(2));
  writeFileSync(expectedPath, JSON.stringify(record, null, 2) + '\n');
  for (const [name, entry] of Object.entries(record)) {
    const where = entry.line !== undefined ? `:${entry.line}` : '';
    console.log(`${entry.verdict.padEnd(13)} ${name}${where}  ${entry.message}`);
  }
  const counts = Object.values(record).reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.verdict]: (acc[e.verdict] ?? 0) + 1 }), {});
  console.log(`\n${Object.keys(record).length} probes: ${JSON.stringify(counts)} → ${expectedPath}`);
}
