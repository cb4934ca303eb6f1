// Rule unbounded-array-index: a variable index into a stack array or an array inside a map value/struct
// that is not provably bounded (no clamp or mask, or signed). Uses value-ranges; quick fix inserts the clamp.
import type { Node } from 'web-tree-sitter';
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts } from '../analysis/flow-walker';
import { analyseValueRanges } from '../analysis/value-ranges';
import { arrayFieldLength, evaluateConstant, globalArray, identifierName, isUnsignedType } from '../analysis/c-values';
import { guardStatement, insertBeforeStatement } from './statement-insertion';


/** The array an index selects from, when it lives on the stack or inside a struct (map value). */
function indexedArray(file: ProbeFile, base: Node, locals: Map<string, { arrayLengths: Node[]; pointerDepth: number }>): { kind: 'stack' | 'map_value'; length: Node } | null {
  const expr = stripCasts(base);
  if (expr.type === 'identifier') {
    const local = locals.get(expr.text);
    if (local) return local.pointerDepth === 0 && local.arrayLengths.length > 0 ? { kind: 'stack', length: local.arrayLengths[0] } : null;
    // a global array lives in the .bss/.data map: its elements are map value memory
    const global = globalArray(file, expr.text);
    return global ? { kind: 'map_value', length: global.length } : null;
  }
  if (expr.type === 'field_expression') {
    const field = expr.childForFieldName('field')?.text;
    const length = field ? arrayFieldLength(file, field) : undefined;
    if (!length) return null;
    const owner = identifierName(expr.childForFieldName('argument'));
    const ownerLocal = owner ? locals.get(owner) : undefined;
    const onStack = expr.childForFieldName('operator')?.text === '.' && ownerLocal != null && ownerLocal.pointerDepth === 0;
    return { kind: onStack ? 'stack' : 'map_value', length };
  }
  return null;
}

export function checkArrayIndexes(file: ProbeFile, fn: ProbeFunction): Finding[] {
  const findings: Finding[] = [];
  const reported = new Set<number>();
  analyseValueRanges(file, fn, {
    visit(node, query) {
      if (node.type !== 'subscript_expression') return;
      const base = node.childForFieldName('argument');
      const index = node.childForFieldName('index');
      if (!base || !index || reported.has(node.startIndex)) return;
      const array = indexedArray(file, base, query.locals);
      if (!array) return;
      const constantIndex = evaluateConstant(file, index);
      if (constantIndex != null) {
        const length = evaluateConstant(file, array.length);
        if (length == null || (constantIndex >= 0 && constantIndex < length)) return;
        reported.add(node.startIndex);
        findings.push({
          range: file.rangeOf(node),
          // past a map value the verifier refuses; on the stack it lands in another variable or outside the frame
          severity: array.kind === 'map_value' ? 'error' : 'warning',
          message: `index ${file.textOf(index)} is outside ${file.textOf(base)}[${file.textOf(array.length)}] (valid: 0..${length - 1})`,
          verifierMessage: array.kind === 'map_value' ? 'invalid access to map value' : 'invalid write to stack',
        });
        return;
      }
      const range = query.rangeOf(index);
      if (range.upper && range.lower) return;
      reported.add(node.startIndex);
      const indexText = file.textOf(index);
      const lengthText = file.textOf(array.length);
      const variable = identifierName(index);
      const local = variable ? query.locals.get(variable) : undefined;
      const signed = local != null && !isUnsignedType(local.baseType);
      const message = !range.upper
        ? `index '${indexText}' into ${file.textOf(base)}[${lengthText}] has no upper bound on this path; clamp it (if (${indexText} >= ${lengthText}) ${indexText} = ${lengthText} - 1;) or mask it`
        : `index '${indexText}' is signed and only checked from above; a negative value would reach before ${file.textOf(base)}[0] (use an unsigned index or check >= 0)`;
      const verifierMessage =
        array.kind === 'stack'
          ? 'invalid unbounded variable-offset write to stack R1'
          : range.upper
            ? 'math between map_value pointer and register with unbounded min value is not allowed'
            : 'R1 unbounded memory access, make sure to bound it';
      // a signed index is guarded where it is used: an earlier check on the 32-bit value does not survive sign extension
      const fixEdit = !variable
        ? null
        : signed || !range.lower
          ? guardStatement(file, node, range.upper ? `${variable} >= 0` : `${variable} >= 0 && ${variable} < ${lengthText}`, variable)
          : insertBeforeStatement(file, node, [`if (${variable} >= ${lengthText})`, `\t${variable} = ${lengthText} - 1;`]);
      findings.push({
        range: file.rangeOf(node),
        message,
        verifierMessage,
        ...(fixEdit ? { fix: { title: `Bound '${variable}' before indexing`, edits: [fixEdit] } } : {}),
      });
    },
  });
  return findings;
}

export const unboundedArrayIndexRule: Rule = {
  id: 'unbounded-array-index',
  description: 'A variable index into a stack array or an array in a map value is not provably within the array (no clamp or mask, or a signed index).',
  verifierMessage: 'R1 unbounded memory access, make sure to bound it',
  checkFunction: checkArrayIndexes,
};
