// How often a live view reads its map: the interval the user picked, slowed down when one read costs the agent
// more CPU than a 1% share of one CPU allows at that interval, and the sentence the view shows about it. Pure.

/** The agent's share of one CPU a view's polling may take. */
export const AGENT_CPU_BUDGET = 0.01;

/**
 * The share of the budget reads are paced to: the rest is for what the agent's own measure of a read leaves
 * out (encoding and sending the reply, its idle work), so that the whole stays within the budget.
 */
const READ_SHARE = 0.75;

/** Weight of the newest read in the smoothed cost (the first read, a full one, costs more than later deltas). */
const NEWEST_WEIGHT = 0.5;

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

export class RefreshPacing {
  /** Smoothed agent CPU of one read, ms; undefined before the first read. */
  private cpuMs: number | undefined;

  constructor(private readonly budget = AGENT_CPU_BUDGET) {}

  /** Records what the last read cost the agent (ms of CPU, as the agent measured it). */
  record(agentCpuMs: number): void {
    this.cpuMs = this.cpuMs === undefined ? agentCpuMs : this.cpuMs * (1 - NEWEST_WEIGHT) + agentCpuMs * NEWEST_WEIGHT;
  }

  /**
   * The interval to read at: the requested one, or the shortest that keeps the agent within budget, rounded up
   * to whole seconds (to 5 s beyond 10 s) so that it does not change at every read.
   */
  intervalMs(requestedMs: number): number {
    const needed = (this.cpuMs ?? 0) / (this.budget * READ_SHARE);
    if (needed <= requestedMs) return requestedMs;
    const step = needed > 10_000 ? 5000 : 1000;
    return Math.max(requestedMs, Math.ceil(needed / step) * step);
  }

  /** What the view says about its refresh, e.g. "refreshing every 5 s: 100,000 entries (…)". */
  note(requestedMs: number, entries: number): string {
    const interval = this.intervalMs(requestedMs);
    const what = `refreshing every ${formatSeconds(interval)}: ${entries.toLocaleString('en-US')} entries`;
    if (interval === requestedMs || this.cpuMs === undefined) return what;
    return `${what} (a read costs the agent ${this.cpuMs.toFixed(0)} ms of CPU; slower than the ${formatSeconds(requestedMs)} asked ` +
      `to keep it under ${this.budget * 100}% of one CPU)`;
  }
}
