// What the API checks and the Playwright test agree on: the fixture probe, the helper command and
// where results go, and the result shape. Imports no vscode, so the Node-side test can use it.
export const PROBE_FILE = 'getppid-latency.bpf.c';
export const RUN_CHECKS_COMMAND = 'ebpfStudioE2e.runApiChecks';
export const RUN_CHECKS_TITLE = 'eBPF Studio E2E: Run API Checks';
/** Environment variable naming the file the helper extension writes its results to. */
export const RESULTS_ENV = 'EBPF_STUDIO_E2E_RESULTS';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the helper extension writes: the results, or why the checks could not run. */
export interface CheckOutcome {
  results?: CheckResult[];
  error?: string;
}
