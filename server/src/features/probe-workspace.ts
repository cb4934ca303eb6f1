// The open probe documents of a language-server session: parses each on open/change (incrementally),
// keeps one rule checker per document, and knows the target kernel and its helper facts. No connection needed.
import { release } from 'node:os';
import type { Diagnostic } from 'vscode-languageserver-types';
import { ProbeDocument } from '../analysis/probe-document';
import type { ProbeFile } from '../analysis/probe-file';
import { ProbeChecker, type QuickCheck, type RuleFailure } from '../rules/rule-engine';
import { allRules } from '../rules/index';
import { formatKernelVersion, parseKernelVersion, runningKernelVersion, type KernelVersion } from '../kernel/kernel-version';
import { HelperAvailability } from '../kernel/helper-availability';
import type { TargetHelperFacts, TargetKernelInfo } from '../../../protocol/lsp-requests';

interface OpenProbe {
  document: ProbeDocument;
  checker: ProbeChecker;
  text: string;
}

export class ProbeWorkspace {
  private readonly open = new Map<string, OpenProbe>();
  private targetSetting = '';
  private target: KernelVersion = runningKernelVersion();
  private helpers: HelperAvailability = HelperAvailability.snapshot;
  private live: TargetHelperFacts | null = null;

  constructor(private readonly onRuleFailure: (failure: RuleFailure) => void = () => undefined) {}

  /** Applies ebpfStudio.targetKernel ("" = this machine); returns false for an unusable value. */
  setTargetKernel(setting: string | undefined | null): boolean {
    const text = (setting ?? '').trim();
    const parsed = text ? parseKernelVersion(text) : null;
    if (text && !parsed) return false;
    this.targetSetting = parsed ? text : '';
    this.applyTarget();
    return true;
  }

  /**
   * The current target's live feature probe (null: none). It decides helper availability and, unless
   * ebpfStudio.targetKernel names a kernel (then the snapshot answers for that kernel), the target kernel.
   */
  setTargetHelperFacts(facts: TargetHelperFacts | null): void {
    this.live = facts;
    this.applyTarget();
  }

  private applyTarget(): void {
    const setting = this.targetSetting ? parseKernelVersion(this.targetSetting) : null;
    const liveVersion = this.live ? parseKernelVersion(this.live.kernelRelease) : null;
    const live = setting === null && liveVersion !== null ? this.live : null;
    const target = setting ?? (live ? liveVersion : null) ?? runningKernelVersion();
    // the same version again (the configuration pull after initialize repeats it) keeps the object: files parsed for it stay valid
    if (formatKernelVersion(target) !== formatKernelVersion(this.target)) this.target = target;
    this.helpers = live ? HelperAvailability.live(live) : HelperAvailability.snapshot;
  }

  get targetKernel(): KernelVersion {
    return this.target;
  }

  targetKernelInfo(): TargetKernelInfo {
    const source = this.targetSetting ? 'setting' : this.helpers !== HelperAvailability.snapshot ? 'target' : 'running';
    return { version: formatKernelVersion(this.target), source, runningRelease: release(), helperFacts: this.helpers.describe() };
  }

  /** Parses a document's new text (first open or change) and returns its file. */
  async update(uri: string, text: string): Promise<ProbeFile> {
    let entry = this.open.get(uri);
    if (!entry) {
      entry = { document: await ProbeDocument.open(uri), checker: new ProbeChecker(allRules, this.onRuleFailure, true), text };
      const known = this.open.get(uri);
      if (known) {
        entry.document.close();
        entry = known;
      } else {
        this.open.set(uri, entry);
      }
    }
    entry.text = text;
    return entry.document.update(text, this.target, this.helpers).file;
  }

  /** The latest parse of a document, re-parsed when the target kernel changed since. */
  file(uri: string): ProbeFile | undefined {
    const entry = this.open.get(uri);
    const file = entry?.document.file;
    if (!entry || !file) return undefined;
    if (file.targetKernel !== this.target || file.helperAvailability.key !== this.helpers.key) return entry.document.update(entry.text, this.target, this.helpers).file;
    return file;
  }

  /** Every rule's diagnostics for the latest version. */
  diagnostics(uri: string): Diagnostic[] {
    const entry = this.open.get(uri);
    const file = this.file(uri);
    return entry && file ? entry.checker.check(file) : [];
  }

  /** Diagnostics while typing: slow whole-file rules carry their last findings; a first check runs in slices (see ProbeChecker.checkQuickly). */
  quickDiagnostics(uri: string, firstCheckSliceMs?: number): QuickCheck {
    const entry = this.open.get(uri);
    const file = this.file(uri);
    return entry && file ? entry.checker.checkQuickly(file, firstCheckSliceMs) : { diagnostics: [], deferred: [], incomplete: false };
  }

  close(uri: string): void {
    this.open.get(uri)?.document.close();
    this.open.delete(uri);
  }

  uris(): string[] {
    return [...this.open.keys()];
  }
}
