// `node --import tsx scripts/measure-helper-facts.ts` (root, after npm run build): measures which
// helpers are GPL-only and which each program type may call on this kernel, into data/measured/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectLocalAgent } from '../engine/targets/local-transport';
import { kernelFacts } from '../server/src/kernel/kernel-facts';
import { measureHelperFacts } from './helper-facts-probe';

async function main(): Promise<void> {
  const agent = await connectLocalAgent({ onStderr: (line) => console.error(`agent: ${line}`) });
  try {
    const facts = await measureHelperFacts(agent, kernelFacts.helpers());
    const dir = join(__dirname, '..', 'data', 'measured');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'helper-facts.json'), `${JSON.stringify(facts, null, 1)}\n`);
    console.log(`kernel ${facts.kernelRelease}: ${facts.gplOnly.length} GPL-only helpers, ${facts.notGplOnly.length} not; ${Object.keys(facts.availability).length} program types measured`);
  } finally {
    await agent.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
