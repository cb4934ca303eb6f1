// Rule license-missing: a file with programs but no SEC("license") declaration. An error at each
// GPL-only helper call (the kernel refuses those), a warning on the first program otherwise.
import type { Rule } from './rule';
import { helperCallLabel } from '../analysis/probe-file';
import { addLicenseFix } from './license-fix';


export const licenseMissingRule: Rule = {
  id: 'license-missing',
  description: 'The file declares no licence; GPL-only helpers (bpf_printk, bpf_probe_read_kernel …) are then refused.',
  verifierMessage: 'cannot call GPL-restricted function from non-GPL compatible program',
  check(file) {
    const first = file.programs[0];
    if (file.license || !first) return [];
    return [{
      range: first.sectionRange ?? first.nameRange,
      severity: 'warning',
      message: 'No licence: add char LICENSE[] SEC("license") = "GPL"; (or "Dual BSD/GPL"), or the kernel refuses every GPL-only helper',
      fix: addLicenseFix(file),
    }];
  },
  checkFunction(file, fn) {
    if (file.license) return [];
    return fn.helperCalls
      .filter((call) => call.helper.gplOnly)
      .map((call) => ({
        range: file.rangeOf(call.nameNode),
        message: `${helperCallLabel(call)} is GPL-only and the file declares no licence`,
        fix: addLicenseFix(file),
      }));
  },
};
