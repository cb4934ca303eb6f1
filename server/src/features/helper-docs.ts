// Markdown for a BPF helper (signature, description, returns, since, GPL-only, availability),
// shared by completion, hover and signature help. Reads kernel facts only.
import type { HelperInfo } from '../kernel/kernel-facts';
import type { HelperAvailability } from '../kernel/helper-availability';
import { formatKernelVersion, kernelHas, type KernelVersion } from '../kernel/kernel-version';
import type { ProgramType } from '../kernel/program-types';

/** "since 5.8" plus a note when the target kernel is older. */
export function helperSinceLabel(helper: HelperInfo, target: KernelVersion): string {
  if (!helper.since) return '';
  return kernelHas(target, helper.since) ? `since ${helper.since}` : `since ${helper.since} — newer than the target kernel ${formatKernelVersion(target)}`;
}

export function helperMarkdown(helper: HelperInfo, target: KernelVersion, programTypes: readonly ProgramType[], availability: HelperAvailability): string {
  const parts = ['```c', `${helper.signature};`, '```', helper.doc];
  if (helper.returns) parts.push(`**Returns** ${helper.returns}`);
  const facts: string[] = [];
  if (helper.since) facts.push(`Kernel ${helperSinceLabel(helper, target)}`);
  if (helper.gplOnly) facts.push('GPL-only (needs a GPL-compatible licence)');
  for (const type of programTypes) {
    facts.push(availability.allowedIn(helper, type, target) ? `available to ${type} programs` : `**not available to ${type} programs**`);
  }
  const sources = [...new Set(programTypes.map((type) => availability.sourceOf(type)))];
  if (sources.length) facts.push(`(per the ${sources.join('; the ')})`);
  if (facts.length) parts.push(facts.join(' · '));
  return parts.join('\n\n');
}
