// Rule gpl-helper-non-gpl-license: a GPL-only helper called from a file whose SEC("license")
// string is not GPL-compatible (the kernel's license_is_gpl_compatible list).
import type { Rule } from './rule';
import { helperCallLabel } from '../analysis/probe-file';
import { changeLicenseFix } from './license-fix';


export const gplHelperNonGplLicenseRule: Rule = {
  id: 'gpl-helper-non-gpl-license',
  description: 'A GPL-only helper is called but the licence string is not GPL-compatible.',
  verifierMessage: 'cannot call GPL-restricted function from non-GPL compatible program',
  checkFunction(file, fn) {
    const license = file.license;
    if (!license || file.licenseIsGplCompatible) return [];
    const fix = changeLicenseFix(file);
    return fn.helperCalls
      .filter((call) => call.helper.gplOnly)
      .map((call) => ({
        range: file.rangeOf(call.nameNode),
        message: `${helperCallLabel(call)} is GPL-only, and the licence "${license.value}" is not GPL-compatible (use "GPL", "Dual BSD/GPL", "Dual MIT/GPL" …)`,
        ...(fix ? { fix } : {}),
      }));
  },
};
