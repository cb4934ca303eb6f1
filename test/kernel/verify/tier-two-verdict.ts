// Test support: a tier-2 result reduced to what bpftool-based records hold (verdict and 1-based line), so the
// product's verdict can be compared with an independent load of the same probe.
import type { VerifyProbeResult } from '../../../engine/verify/verify-probe';

/** The verdict and 1-based line as the corpus records them: the first rejected program's line, or clang's first error. */
export function verdictAndLine(result: VerifyProbeResult): { verdict: string; line?: number } {
  if (result.verdict === 'compile-error') {
    const first = result.diagnostics.get(result.sourcePath)?.find((d) => d.severity === 1);
    return { verdict: 'compile-error', ...(first ? { line: first.range.start.line + 1 } : {}) };
  }
  if (result.verdict === 'accepted') return { verdict: 'accepted' };
  const failure = result.programs.find((p) => !p.accepted)?.failure;
  return { verdict: 'rejected', ...(failure && failure.lineFrom !== 'declaration' ? { line: failure.line + 1 } : {}) };
}
