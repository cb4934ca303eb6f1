// Which program types may call which helper on the target, and where that answer came from: the live feature probe of
// the current target (sent by the editor) where it judged the type, else the product's snapshot of helper tables.
import type { TargetHelperFacts } from '../../../protocol/lsp-requests';
import versionsJson from './generated/kernel-versions.json';
import { kernelFacts, type HelperInfo } from './kernel-facts';
import type { KernelVersion } from './kernel-version';
import type { ProgramType } from './program-types';

/** The kernel build the measured part of the snapshot (data/measured/helper-facts.json) came from. */
export const SNAPSHOT_KERNEL_RELEASE: string = (versionsJson as { helperFactsMeasuredOn: string }).helperFactsMeasuredOn;

export class HelperAvailability {
  /** The snapshot: ebpf-docs tables plus the measurement of SNAPSHOT_KERNEL_RELEASE, with per-type "since" versions. */
  static readonly snapshot = new HelperAvailability(null);

  static live(facts: TargetHelperFacts): HelperAvailability {
    return new HelperAvailability(facts);
  }

  /** Probed program type → helper names with their bpf_ prefix. */
  private readonly probed = new Map<string, ReadonlySet<string>>();
  /** Changes whenever the answers may change (for caches of findings). */
  readonly key: string;

  private constructor(private readonly facts: TargetHelperFacts | null) {
    for (const entry of facts?.programTypes ?? []) {
      if (entry.helpersProbed) this.probed.set(entry.type, new Set(entry.helpers.map((name) => `bpf_${name}`)));
    }
    this.key = facts ? `live:${facts.target}:${facts.kernelRelease}` : `snapshot:${SNAPSHOT_KERNEL_RELEASE}`;
  }

  /** Whether programs of this type may call the helper on the target (the snapshot's answer on `kernel` where the probe has none). */
  allowedIn(helper: HelperInfo, programType: ProgramType, kernel?: KernelVersion): boolean {
    const live = this.probed.get(programType);
    return live ? live.has(helper.name) : kernelFacts.helperAllowedIn(helper, programType, kernel);
  }

  /** Whether the answer for this type is the live probe's (false: the snapshot's, with its "since" versions). */
  isLive(programType: ProgramType): boolean {
    return this.probed.has(programType);
  }

  /** Where the answer for this type came from, e.g. "live feature probe of web1, kernel 6.1.0-18-amd64". */
  sourceOf(programType: ProgramType): string {
    if (this.facts && this.probed.has(programType)) return `live feature probe of ${this.facts.target}, kernel ${this.facts.kernelRelease}`;
    return `eBPF Studio's helper tables, measured on kernel ${SNAPSHOT_KERNEL_RELEASE}`;
  }

  /** The live probe's kernel release, when there is a probe. */
  get liveKernelRelease(): string | undefined {
    return this.facts?.kernelRelease;
  }

  /** A summary for the status bar: which source the helper facts come from. */
  describe(): string {
    return this.facts
      ? `live feature probe of ${this.facts.target} (kernel ${this.facts.kernelRelease}); eBPF Studio's helper tables (measured on kernel ${SNAPSHOT_KERNEL_RELEASE}) for program types it cannot probe`
      : `eBPF Studio's helper tables, measured on kernel ${SNAPSHOT_KERNEL_RELEASE}`;
  }
}
