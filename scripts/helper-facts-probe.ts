// Measures helper facts on the running kernel: for each (helper, loadable program type) it loads a
// one-call program with a non-GPL licence through the agent and reads what the verifier says.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentClient } from '../engine/targets/agent-client';
import type { ProgramVerdict } from '../protocol/agent-rpc';
import { HELPER_PROBE_SECTIONS } from '../protocol/helper-probe-sections';


/** What the verifier made of one call: refused for the type, refused for the licence, or got past both. */
export type HelperVerdict = 'unavailable' | 'gpl-only' | 'available' | 'inconclusive';

export interface MeasuredHelperFacts {
  kernelRelease: string;
  /** Helpers the kernel refused with "cannot call GPL-restricted function" for a non-GPL licence. */
  gplOnly: string[];
  /** Helpers that got past the licence check with a non-GPL licence. */
  notGplOnly: string[];
  /** Per program type: helpers get_func_proto offers, and those it refuses. */
  availability: Record<string, { available: string[]; unavailable: string[] }>;
}

export function classify(verdict: ProgramVerdict): HelperVerdict {
  const log = verdict.log;
  // "not allowed in probe": the helper's own allowed() check refuses this program (bpf_d_path outside its allow-list)
  if (/cannot use helper|unknown func|invalid func|helper call is not allowed in probe/.test(log)) return 'unavailable';
  if (/GPL-restricted/.test(log)) return 'gpl-only';
  if (verdict.accepted || /\bcall \w+#\d+/.test(log)) return 'available';
  return 'inconclusive';
}

/** One program per helper, each calling only that helper by id (the call is the first instruction). */
export function helperProbeSource(section: string, helpers: readonly { name: string; id: number }[]): string {
  return [
    'char LICENSE[] __attribute__((section("license"), used)) = "Proprietary";',
    ...helpers.map((h) => `__attribute__((section("${section}"), used)) int h${h.id}(void *ctx) { long (*helper)(void) = (void *)${h.id}; return helper(); }`),
    '',
  ].join('\n');
}

export async function measureHelperFacts(agent: AgentClient, helpers: readonly { name: string; id: number }[], clang = 'clang-19'): Promise<MeasuredHelperFacts> {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-helper-facts-'));
  const byId = new Map(helpers.map((h) => [h.id, h.name]));
  const gplOnly = new Set<string>();
  const notGplOnly = new Set<string>();
  const availability: MeasuredHelperFacts['availability'] = {};
  try {
    for (const [type, section] of Object.entries(HELPER_PROBE_SECTIONS)) {
      const source = join(dir, `${type}.bpf.c`);
      const object = join(dir, `${type}.bpf.o`);
      writeFileSync(source, helperProbeSource(section, helpers));
      execFileSync(clang, ['-O2', '-target', 'bpf', '-c', source, '-o', object]);
      const result = await agent.request('verify', { object: readFileSync(object).toString('base64'), objectName: `${type}.bpf.o` }, { timeoutMs: 300000 });
      const entry = { available: [] as string[], unavailable: [] as string[] };
      for (const program of result.programs) {
        const name = byId.get(Number(program.name.slice(1)));
        if (!name) continue;
        const verdict = classify(program);
        if (verdict === 'unavailable') entry.unavailable.push(name);
        else if (verdict !== 'inconclusive') entry.available.push(name);
        if (verdict === 'gpl-only') gplOnly.add(name);
        if (verdict === 'available') notGplOnly.add(name);
      }
      entry.available.sort();
      entry.unavailable.sort();
      availability[type] = entry;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { kernelRelease: release(), gplOnly: [...gplOnly].sort(), notGplOnly: [...notGplOnly].sort(), availability };
}
