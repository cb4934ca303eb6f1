// Rule unknown-section: a SEC("…") name libbpf cannot map to a program type (on a function) or
// that is no data section libbpf knows (on a variable); suggests the closest valid names.
import type { Finding, Rule } from './rule';


export const unknownSectionRule: Rule = {
  id: 'unknown-section',
  description: 'A SEC("…") name libbpf does not recognise, so it cannot tell the program type.',
  verifierMessage: "libbpf: prog '<name>': missing BPF prog type, check ELF section name '<section>'",
  check(file) {
    const findings: Finding[] = [];
    for (const fn of file.programs) {
      if (fn.sectionMatch || !fn.section || !fn.sectionRange) continue;
      const closest = file.kernel.closestSectionNames(fn.section);
      findings.push({
        range: fn.sectionRange,
        severity: 'warning',
        message: `libbpf does not know the section name "${fn.section}", so it cannot tell the program type; did you mean ${closest.map((name) => `"${name}"`).join(', ')}?`,
        verifierMessage: `libbpf: prog '${fn.name}': missing BPF prog type, check ELF section name '${fn.section}'`,
        ...(closest[0] ? { fix: { title: `Change the section to "${closest[0]}"`, edits: [{ range: fn.sectionRange, newText: closest[0] }] } } : {}),
      });
    }
    for (const variable of file.dataVariables) {
      if (file.kernel.isDataSection(variable.section) || file.kernel.section(variable.section)) continue;
      const closest = file.kernel.closestSectionNames(variable.section, 3, true);
      findings.push({
        range: variable.sectionRange,
        severity: 'warning',
        message: `"${variable.section}" is no data section libbpf knows (license, .maps, .rodata, .data, .bss …); did you mean ${closest.map((name) => `"${name}"`).join(', ')}?`,
        verifierMessage: `libbpf: elf: skipping unrecognized data section '${variable.section}'`,
        ...(closest[0] ? { fix: { title: `Change the section to "${closest[0]}"`, edits: [{ range: variable.sectionRange, newText: closest[0] }] } } : {}),
      });
    }
    return findings;
  },
};
