// Puts the verdicts of one probe on several targets (kernels booted in VMs, this machine, SSH hosts) side by side:
// one diagnostic per rejected line saying which kernels reject it and which accept the probe, and a per-kernel summary.
import type { Diagnostic } from 'vscode-languageserver-types';
import type { ProbeVerdict, VerifyProbeResult } from './verify-probe';

export interface TargetRun {
  /** The target as the user named it: local, kernel:6.1, ssh://… */
  target: string;
  result: VerifyProbeResult;
}

export interface ProgramSummary {
  name: string;
  section: string;
  accepted: boolean;
  /** Where the verifier rejected it: absolute path and 1-based line. */
  file?: string;
  line?: number;
  /** The kernel's verifier log of a rejected program. */
  log?: string;
}

/** One kernel's verdict on one probe, as `check --verify --format json` prints it. */
export interface KernelVerdict {
  target: string;
  /** The short name diagnostics use: the kernel's version (6.1), with the target's name when two share one. */
  label: string;
  kernelRelease: string;
  verdict: ProbeVerdict;
  programs: ProgramSummary[];
}

/** Which targets rejected a diagnostic's line, by label, with each one's own message. */
export interface MatrixDiagnosticData {
  rejectedBy: { target: string; label: string; message: string }[];
  acceptedBy: string[];
}

/** "6.1.0-57-cloud-amd64" → "6.1"; a release that is not a version stays whole. */
export function kernelVersionLabel(release: string): string {
  return /^(\d+\.\d+)/.exec(release)?.[1] ?? release;
}

/** A label per run, in order: the kernel version, or "target (version)" where two runs share a version. */
export function runLabels(runs: TargetRun[]): string[] {
  const versions = runs.map((r) => kernelVersionLabel(r.result.target.kernelRelease));
  return versions.map((v, i) => (versions.filter((w) => w === v).length > 1 ? `${runs[i].target} (${v})` : v));
}

export function kernelVerdicts(runs: TargetRun[]): KernelVerdict[] {
  const labels = runLabels(runs);
  return runs.map(({ target, result }, i) => ({
    target,
    label: labels[i],
    kernelRelease: result.target.kernelRelease,
    verdict: result.verdict,
    programs: result.programs.map((p) => ({
      name: p.name,
      section: p.section,
      accepted: p.accepted,
      ...(p.failure ? { file: p.failure.path, line: p.failure.line + 1 } : {}),
      ...(p.accepted ? {} : { log: p.log }),
    })),
  }));
}

const messageText = (d: Diagnostic) => (typeof d.message === 'string' ? d.message : d.message.value);

/**
 * The diagnostics of every run by file, one per (file, line, code): the first kernel's message followed by
 * "(rejected by 6.1; accepted by 6.12, 6.18)", and in `data` each rejecting kernel's own message.
 */
export function mergeRunDiagnostics(runs: TargetRun[]): Map<string, Diagnostic[]> {
  const labels = runLabels(runs);
  const acceptedBy = runs.flatMap((r, i) => (r.result.verdict === 'accepted' ? [labels[i]] : []));
  const groups = new Map<string, { path: string; diagnostic: Diagnostic; data: MatrixDiagnosticData }>();
  runs.forEach((run, i) => {
    for (const [path, diagnostics] of run.result.diagnostics) {
      for (const d of diagnostics) {
        const key = `${path}\0${d.range.start.line}\0${String(d.code ?? '')}\0${d.source ?? ''}`;
        let group = groups.get(key);
        if (!group) {
          group = { path, diagnostic: d, data: { rejectedBy: [], acceptedBy } };
          groups.set(key, group);
        }
        group.data.rejectedBy.push({ target: run.target, label: labels[i], message: messageText(d) });
      }
    }
  });
  const byFile = new Map<string, Diagnostic[]>();
  for (const { path, diagnostic, data } of groups.values()) {
    const verb = diagnostic.source === 'clang' ? 'fails to compile for' : 'rejected by';
    const side = `(${verb} ${data.rejectedBy.map((r) => r.label).join(', ')}${acceptedBy.length ? `; accepted by ${acceptedBy.join(', ')}` : ''})`;
    const list = byFile.get(path) ?? [];
    list.push({ ...diagnostic, message: `${messageText(diagnostic)}\n${side}`, data });
    byFile.set(path, list);
  }
  return byFile;
}
