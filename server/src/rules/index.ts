// The registry: every rule the language server and `ebpf-studio check` run, one line each
// (add a rule by importing it and listing it here, with examples in test/fixtures/rules/<id>/).
import type { Rule } from './rule';
import { licenseMissingRule } from './license-missing';
import { gplHelperNonGplLicenseRule } from './gpl-helper-non-gpl-license';
import { helperNotAllowedRule } from './helper-not-allowed';
import { helperNewerThanKernelRule } from './helper-newer-than-kernel';
import { mapTypeNewerThanKernelRule } from './map-type-newer-than-kernel';
import { programTypeNewerThanKernelRule } from './program-type-newer-than-kernel';
import { unknownSectionRule } from './unknown-section';
import { nullablePointerUncheckedRule } from './nullable-pointer-unchecked';
import { referenceNotReleasedRule } from './reference-not-released';
import { unboundedArrayIndexRule } from './unbounded-array-index';
import { unboundedHelperSizeRule } from './unbounded-helper-size';
import { packetBoundsUncheckedRule } from './packet-bounds-unchecked';
import { directKernelMemoryReadRule } from './direct-kernel-memory-read';
import { invalidReturnValueRule } from './invalid-return-value';
import { stackSizeExceededRule } from './stack-size-exceeded';
import { unboundedLoopRule } from './unbounded-loop';
import { uninitializedStackMemoryRule } from './uninitialized-stack-memory';
import { mapTypeHelperMismatchRule } from './map-type-helper-mismatch';
import { helperArgumentKindRule } from './helper-argument-kind';
import { contextAccessNotAllowedRule } from './context-access-not-allowed';
import { variableUnsetOnPathRule } from './variable-unset-on-path';

export const allRules: readonly Rule[] = [
  licenseMissingRule,
  gplHelperNonGplLicenseRule,
  helperNotAllowedRule,
  helperNewerThanKernelRule,
  mapTypeNewerThanKernelRule,
  programTypeNewerThanKernelRule,
  unknownSectionRule,
  nullablePointerUncheckedRule,
  referenceNotReleasedRule,
  unboundedArrayIndexRule,
  unboundedHelperSizeRule,
  packetBoundsUncheckedRule,
  directKernelMemoryReadRule,
  invalidReturnValueRule,
  stackSizeExceededRule,
  unboundedLoopRule,
  uninitializedStackMemoryRule,
  mapTypeHelperMismatchRule,
  helperArgumentKindRule,
  contextAccessNotAllowedRule,
  variableUnsetOnPathRule,
];
