// Cross-checks a template.json against its .bpf.c text: every global a parameter sets is a `const volatile`
// global there, every program named exists under a SEC(), every view's map is declared. Text only, no compile.

import type { TemplateManifest } from './template-manifest';

export interface SourceDeclarations {
  /** `const volatile` globals: name → the declaration's initializer text. */
  constGlobals: Map<string, string>;
  /** Program function names, each with its SEC("…") string. */
  programs: Map<string, string>;
  /** Map names declared with SEC(".maps"). */
  maps: Set<string>;
}

const CONST_GLOBAL = /^\s*const\s+volatile\s+[\w\s]+?\b(\w+)\s*=\s*([^;]+);/gm;
const PROGRAM = /SEC\("([^"]+)"\)\s*\n\s*int\s+(?:BPF_\w+\(\s*)?(\w+)/g;
const MAP = /\}\s*(\w+)\s+SEC\("\.maps"\)/g;

export function sourceDeclarations(sourceText: string): SourceDeclarations {
  const constGlobals = new Map<string, string>();
  for (const match of sourceText.matchAll(CONST_GLOBAL)) constGlobals.set(match[1], match[2].trim());
  const programs = new Map<string, string>();
  for (const match of sourceText.matchAll(PROGRAM)) programs.set(match[2], match[1]);
  const maps = new Set<string>();
  for (const match of sourceText.matchAll(MAP)) maps.add(match[1]);
  return { constGlobals, programs, maps };
}

/** Problems ("path: what is wrong") where the manifest names something the source does not declare. */
export function checkManifestAgainstSource(manifest: TemplateManifest, sourceText: string, sourceName: string): string[] {
  const declared = sourceDeclarations(sourceText);
  const problems: string[] = [];
  const programNames = [...declared.programs.keys()].join(', ') || 'none';
  manifest.parameters.forEach((parameter, i) => {
    if (parameter.global !== undefined && !declared.constGlobals.has(parameter.global)) {
      problems.push(`$.parameters[${i}].global: ${sourceName} declares no \`const volatile\` global "${parameter.global}"`);
    }
    for (const program of parameter.attach?.programs ?? []) {
      if (!declared.programs.has(program)) problems.push(`$.parameters[${i}].attach.programs: ${sourceName} has no program "${program}" (programs: ${programNames})`);
    }
  });
  manifest.views.forEach((view, i) => {
    if (!declared.maps.has(view.map)) problems.push(`$.views[${i}].map: ${sourceName} declares no map "${view.map}" (maps: ${[...declared.maps].join(', ') || 'none'})`);
  });
  for (const program of Object.keys(manifest.attach ?? {})) {
    if (!declared.programs.has(program)) problems.push(`attach.${program}: ${sourceName} has no program "${program}" (programs: ${programNames})`);
  }
  return problems;
}
