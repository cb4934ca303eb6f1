// The latest kernel verification of each probe file (per-program verdicts, figures, log, diagnostics), shared
// by the verify-on-save, verifier code lens and verifier log features. Talks to nothing; fires on change.
import * as vscode from 'vscode';
import { perContext } from '../context-singleton';
import type { VerifyProbeResult } from '../../../engine/verify/verify-probe';

export interface StoredVerification {
  result: VerifyProbeResult;
  target: string;
  /** The document version the result was computed for. */
  version: number;
  finishedAt: Date;
  /** The same probe verified on each kernel of ebpfStudio.verifyKernels (VMs), for their logs. */
  kernels?: { target: string; result: VerifyProbeResult }[];
}

export class VerificationStore implements vscode.Disposable {
  private readonly results = new Map<string, StoredVerification>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  get(uri: vscode.Uri): StoredVerification | undefined {
    return this.results.get(uri.toString());
  }

  set(uri: vscode.Uri, verification: StoredVerification): void {
    this.results.set(uri.toString(), verification);
    this.changed.fire(uri);
  }

  delete(uri: vscode.Uri): void {
    if (this.results.delete(uri.toString())) this.changed.fire(uri);
  }

  dispose(): void {
    this.changed.dispose();
    this.results.clear();
  }
}

/** The one store of an extension context (created on first use, disposed with the context). */
export const verificationStore = perContext(() => new VerificationStore());
