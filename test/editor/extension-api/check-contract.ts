// What the API checks (run by index.ts inside an editor) and the Node-side test agree on: the fixture
// probe and the lines run() prints. Imports no vscode, so the Playwright-driven test can use it.
export const PROBE_FILE = 'getppid-latency.bpf.c';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** run() prints one line per check, `ok - name: detail` or `FAILED - name: detail`, then this summary. */
export const SUMMARY_PREFIX = 'eBPF Studio API checks:';

export function resultLine(result: CheckResult): string {
  return `${result.ok ? 'ok' : 'FAILED'} - ${result.name}: ${result.detail}`;
}

export function summaryLine(results: CheckResult[]): string {
  const failed = results.filter((r) => !r.ok).length;
  return `${SUMMARY_PREFIX} ${results.length - failed} passed, ${failed} failed`;
}

/** The (passed, failed) counts of a summary line, or undefined for any other line. */
export function parseSummary(line: string): { passed: number; failed: number } | undefined {
  const match = new RegExp(`${SUMMARY_PREFIX} (\\d+) passed, (\\d+) failed`).exec(line);
  return match ? { passed: Number(match[1]), failed: Number(match[2]) } : undefined;
}
