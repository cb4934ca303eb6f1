// Custom LSP requests between the eBPF Studio client and its language server, declared once as
// typed constants (the client sends them with vscode-languageclient, the server answers them).
import { RequestType0 } from 'vscode-languageserver-protocol';

export interface TargetKernelInfo {
  /** The kernel the static rules check against, "major.minor" (e.g. "5.15"). */
  version: string;
  /** 'setting' when ebpfStudio.targetKernel names it, 'running' when it is this machine's kernel. */
  source: 'setting' | 'running';
  /** The server machine's `uname -r`. */
  runningRelease: string;
}

/** The effective target kernel (for the status bar item). */
export const TargetKernelRequest = new RequestType0<TargetKernelInfo, void>('ebpfStudio/targetKernel');
