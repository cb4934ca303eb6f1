// Custom LSP requests between the eBPF Studio client and its language server, declared once as
// typed constants (the client sends them with vscode-languageclient, the server answers them).
import { NotificationType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

export interface TargetKernelInfo {
  /** The kernel the static rules check against, "major.minor" (e.g. "5.15"). */
  version: string;
  /**
   * 'setting' when ebpfStudio.targetKernel names it, 'target' when it is the kernel of the current target's live feature
   * probe, 'running' when it is this machine's kernel.
   */
  source: 'setting' | 'target' | 'running';
  /** The server machine's `uname -r`. */
  runningRelease: string;
  /** Where helper availability comes from: the current target's live feature probe, or the snapshot and its kernel. */
  helperFacts: string;
}

/** The current target's live feature probe (the agent's featureProbe result), as the editor sends it. */
export interface TargetHelperFacts {
  /** The target's name ("local", an SSH target's name). */
  target: string;
  kernelRelease: string;
  programTypes: { type: string; supported: boolean; helpersProbed: boolean; helpers: string[] }[];
}

/**
 * The current target's helper facts, sent when it is connected and probed; null when the current target has none
 * (not connected): the server then uses its snapshot.
 */
export const TargetHelperFactsNotification = new NotificationType<TargetHelperFacts | null>('ebpfStudio/targetHelperFacts');

/** The effective target kernel (for the status bar item). */
export const TargetKernelRequest = new RequestType0<TargetKernelInfo, void>('ebpfStudio/targetKernel');

/** A program of a probe (a function with a SEC("…")), as the language server's parse finds it. */
export interface ProbeProgram {
  name: string;
  /** The section as written, e.g. "xdp" or "?tp_btf/sched_switch". */
  section: string;
  /** 0-based line of its SEC("…") annotation: where code lenses and line-less verifier findings go. */
  line: number;
}

export interface ProgramsParams {
  /** The probe's document URI; a file the editor has not opened is read from disk. */
  uri: string;
}

/** The programs of a probe, from the one parse (server/src/analysis/probe-programs.ts). */
export const ProgramsRequest = new RequestType<ProgramsParams, ProbeProgram[], void>('ebpfStudio/programs');

/** Every helper name the server knows, so the client can leave helpers to the server when clangd offers them too. */
export const HelperNamesRequest = new RequestType0<string[], void>('ebpfStudio/helperNames');

/** A `const volatile` global of a probe as its source declares it, with the comment that explains it. */
export interface ProbeGlobal {
  name: string;
  /** 0-based line of its declaration. */
  line: number;
  /** The comment above the declaration, or after it on the same line, without its markers; '' when it has none. */
  comment: string;
}

/** The probe's `const volatile` globals and their comments (the attach-with-parameters flow shows them). */
export const GlobalsRequest = new RequestType<ProgramsParams, ProbeGlobal[], void>('ebpfStudio/globals');
