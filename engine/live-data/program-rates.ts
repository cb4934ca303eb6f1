// Program cost from two samples of the kernel's run_cnt/run_time_ns: events per second, average ns per
// event, and the share of one CPU spent in the program. Pure; used by the program view.

export interface ProgramSample {
  /** ms since the epoch */
  time: number;
  runCnt: number;
  runTimeNs: number;
}

export interface ProgramRates {
  eventsPerSecond: number;
  /** undefined when the program did not run in the interval */
  avgNsPerEvent: number | undefined;
  /** Percent of one CPU (100 = one core busy all the time). */
  cpuPercent: number;
}

export function programRates(before: ProgramSample, after: ProgramSample): ProgramRates | undefined {
  const seconds = (after.time - before.time) / 1000;
  if (seconds <= 0) return undefined;
  const runs = Math.max(0, after.runCnt - before.runCnt);
  const ns = Math.max(0, after.runTimeNs - before.runTimeNs);
  return {
    eventsPerSecond: runs / seconds,
    avgNsPerEvent: runs > 0 ? ns / runs : undefined,
    cpuPercent: (ns / (seconds * 1e9)) * 100,
  };
}
