// Typed accessors over the kernel facts generated at build time (server/src/kernel/generated/*.json
// from ebpf-docs and bpf_helper_defs.h): helpers, availability per program type, versions, sections.
import helpersJson from './generated/helpers.json';
import versionsJson from './generated/kernel-versions.json';
import { kernelHas, type KernelVersion } from './kernel-version';
import { PROGRAM_TYPES, type ProgramType } from './program-types';
import { matchSection, closestSectionNames, isDataSection, SECTION_DEFINITIONS } from './sections';

export interface HelperParam {
  type: string;
  name: string;
}

export interface HelperInfo {
  name: string;
  /** The helper's number in enum bpf_func_id. */
  id: number;
  /** The C prototype, e.g. "void *bpf_map_lookup_elem(void *map, const void *key)". */
  signature: string;
  returnType: string;
  params: HelperParam[];
  /** The description from bpf_helper_defs.h (plain text, kernel doc markup kept). */
  doc: string;
  /** The "Returns" paragraph of the doc. */
  returns: string;
  /** First mainline kernel with the helper ("4.1"), null when unknown. */
  since: string | null;
  /** Callable only from programs with a GPL-compatible licence. */
  gplOnly: boolean;
  /** libbpf program type names whose programs may call it. */
  programTypes: ProgramType[];
  /** For program types that gained the helper later than the helper appeared: type → kernel. */
  programTypesSince: Partial<Record<ProgramType, string>>;
  /** Map types it works on, for map helpers (BPF_MAP_TYPE_…). */
  mapTypes: string[];
}

interface KernelVersionsJson {
  programTypes: Record<string, string>;
  mapTypes: Record<string, string>;
  mapFlags: Record<string, string>;
  attachTypes: Record<string, string>;
}

const helpers = helpersJson as unknown as Record<string, HelperInfo>;
const versions = versionsJson as KernelVersionsJson;
const helperList = Object.values(helpers).sort((a, b) => a.id - b.id);

export const kernelFacts = {
  helper(name: string): HelperInfo | undefined {
    return Object.prototype.hasOwnProperty.call(helpers, name) ? helpers[name] : undefined;
  },
  helpers(): readonly HelperInfo[] {
    return helperList;
  },
  /**
   * Whether programs of this type may call the helper (per the kernel's *_func_proto tables), on the
   * given kernel when one is given (some program types gained a helper later than others).
   */
  helperAllowedIn(helper: HelperInfo, programType: ProgramType, kernel?: KernelVersion): boolean {
    if (!helper.programTypes.includes(programType)) return false;
    return kernel == null || kernelHas(kernel, helper.programTypesSince[programType]);
  },
  /** First kernel with the program type ("4.8"), by libbpf name. */
  programTypeSince(programType: ProgramType): string | undefined {
    return versions.programTypes[programType];
  },
  /** First kernel with the map type ("5.8"), by enum name (BPF_MAP_TYPE_RINGBUF). */
  mapTypeSince(mapType: string): string | undefined {
    return versions.mapTypes[mapType];
  },
  mapTypes(): string[] {
    return Object.keys(versions.mapTypes);
  },
  /** Map flags (BPF_F_NO_PREALLOC …) with the kernel that introduced each. */
  mapFlags(): Record<string, string> {
    return versions.mapFlags;
  },
  attachTypeSince(attachType: string): string | undefined {
    return versions.attachTypes[attachType];
  },
  programTypes(): ProgramType[] {
    return Object.keys(PROGRAM_TYPES) as ProgramType[];
  },
  section: matchSection,
  closestSectionNames,
  isDataSection,
  sectionDefinitions: () => SECTION_DEFINITIONS,
};

export type KernelFacts = typeof kernelFacts;
