// The contract every verifier rule implements: identity, docs, scope (program types, kernel) and
// check() over one parsed probe file; its examples are fixture files (test/fixtures/rules/<id>/).
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Diagnostic, TextEdit, Range } from 'vscode-languageserver-types';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';

export interface QuickFix {
  title: string;
  edits: TextEdit[];
}

export interface PathStep {
  range: Range;
  message: string;
}

export interface Finding {
  range: Range;
  /** What is wrong, in the rule's words; the verifier message is added by the engine. */
  message: string;
  severity?: 'error' | 'warning' | 'information';
  fix?: QuickFix;
  /** The kernel's exact words for this finding, when more specific than the rule's verifierMessage. */
  verifierMessage?: string;
  /** Why: the steps that lead here, the way the verifier log would show them (where the value came from, the branch taken). */
  path?: PathStep[];
  /** The node the finding is about, for rules that relate findings to functions. */
  node?: Node;
}

export interface Rule {
  id: string;
  description: string;
  /** Program types (libbpf names, e.g. 'xdp', 'kprobe', 'tracepoint') the rule applies to; all when absent. */
  programTypes?: string[];
  /** The kernel version ("5.8") from which the rule's subject exists, where relevant. */
  minKernel?: string;
  /** The message the kernel verifier prints for this mistake, quoted in every diagnostic. */
  verifierMessage: string;
  /** Whole-file check (licence, sections, call chains). A rule implements this, checkFunction, or both. */
  check?(file: ProbeFile): Finding[];
  /**
   * Check of one function. The engine re-runs it only for functions an edit touched and caches the
   * rest, so its findings may depend only on this function's text and on the file outside function
   * bodies (declarations, maps, licence, sections, target kernel), not on other functions' bodies.
   * Findings must lie inside the function.
   */
  checkFunction?(file: ProbeFile, fn: ProbeFunction): Finding[];
}

export type { Diagnostic };
