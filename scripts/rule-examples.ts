// Reads each rule's examples from test/fixtures/rules/<rule-id>/ (bad-N.bpf.c, good-N.bpf.c, or links to corpus probes): a bad
// one marks its line `// <- flagged` or `// <- flagged (no quick fix)`; `// target kernel: X.Y` on line 1 sets the kernel.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const RULE_EXAMPLES_DIRECTORY = join(__dirname, '..', 'test', 'fixtures', 'rules');
const FLAGGED_MARKER = '// <- flagged';
const FLAGGED_LINE = /\/\/ <- flagged( \(no quick fix\))?$/;
const TARGET_KERNEL = /^\/\/ target kernel: (\d+\.\d+)\n/;
const EXAMPLE_FILE = /^(bad|good)-(\d+)\.bpf\.c$/;

export interface RuleExample {
  /** The fixture's path relative to the examples directory ("unbounded-loop/bad-1.bpf.c"). */
  name: string;
  /** A complete probe file (it may rely on nothing but what it includes). */
  code: string;
  /** For a bad example: the 1-based line the finding must be on. */
  line?: number;
  /** For a bad example: whether the rule offers a quick fix for the finding on its line. */
  quickFix?: boolean;
  /** The target kernel the example is checked against ("5.4"), when it names one. */
  targetKernel?: string;
}

export interface RuleExamples {
  bad: RuleExample[];
  good: RuleExample[];
}

function readExample(ruleId: string, fileName: string, kind: 'bad' | 'good', directory: string): RuleExample {
  const name = `${ruleId}/${fileName}`;
  const code = readFileSync(join(directory, ruleId, fileName), 'utf8');
  const example: RuleExample = { name, code };
  const kernel = TARGET_KERNEL.exec(code);
  if (kernel) example.targetKernel = kernel[1];
  const lines = code.split('\n');
  const flagged = lines.flatMap((text, index) => (FLAGGED_LINE.test(text) ? [index + 1] : []));
  if (kind === 'bad') {
    if (flagged.length !== 1) throw new Error(`${name}: a bad example marks exactly one line with '${FLAGGED_MARKER}' (found ${flagged.length})`);
    example.line = flagged[0];
    example.quickFix = FLAGGED_LINE.exec(lines[flagged[0] - 1])?.[1] === undefined;
  } else if (flagged.length > 0) {
    throw new Error(`${name}: a good example marks no line with '${FLAGGED_MARKER}'`);
  }
  return example;
}

/** The rule's examples in file-number order; a rule without a fixture directory has none. */
export function readRuleExamples(ruleId: string, directory = RULE_EXAMPLES_DIRECTORY): RuleExamples {
  const examples: RuleExamples = { bad: [], good: [] };
  if (!existsSync(join(directory, ruleId))) return examples;
  const files = readdirSync(join(directory, ruleId))
    .map((fileName) => ({ fileName, match: EXAMPLE_FILE.exec(fileName) }))
    .sort((a, b) => Number(a.match?.[2] ?? 0) - Number(b.match?.[2] ?? 0));
  for (const { fileName, match } of files) {
    if (!match) throw new Error(`${ruleId}/${fileName}: example files are named bad-N.bpf.c or good-N.bpf.c`);
    const kind = match[1] as 'bad' | 'good';
    examples[kind].push(readExample(ruleId, fileName, kind, directory));
  }
  return examples;
}
