// Kernel version values: parsing "5.8" / "v6.1.3" / uname release strings, comparison, and this
// machine's running kernel (os.release()) as the default target. Talks to nothing but node:os.
import { release } from 'node:os';

export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
}

/** Parses "5.8", "v5.8", "6.18.0-12-amd64", "5"; null when the text is not a version. */
export function parseKernelVersion(text: string): KernelVersion | null {
  const match = /^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!match) return null;
  return { major: Number(match[1]), minor: Number(match[2] ?? 0), patch: Number(match[3] ?? 0) };
}

export function compareKernelVersions(a: KernelVersion, b: KernelVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** True when `target` is `since` or newer; a missing `since` means "always there". */
export function kernelHas(target: KernelVersion, since: string | null | undefined): boolean {
  if (!since) return true;
  const version = parseKernelVersion(since);
  return version == null || compareKernelVersions(target, version) >= 0;
}

export function formatKernelVersion(version: KernelVersion): string {
  return version.patch ? `${version.major}.${version.minor}.${version.patch}` : `${version.major}.${version.minor}`;
}

/** The kernel this process runs on (uname -r), the default target when none is configured. */
export function runningKernelVersion(): KernelVersion {
  return parseKernelVersion(release()) ?? { major: 6, minor: 0, patch: 0 };
}

/** The configured target ("" or unparsable falls back to the running kernel). */
export function resolveTargetKernel(setting: string | undefined | null): KernelVersion {
  return (setting && parseKernelVersion(setting)) || runningKernelVersion();
}
