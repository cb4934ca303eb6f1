// Rule unbounded-array-index: a variable index into a stack array or an array inside a map value/struct
// that is not provably bounded (no clamp or mask, or signed). Uses value-ranges; quick fix inserts the clamp.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts } from '../analysis/flow-walker';
import { valueRangeDomain } from '../analysis/value-ranges';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { arrayFieldLength, evaluateConstant, evaluateConstantText, globalArray, identifierName, isUnsignedType, type LocalVariable } from '../analysis/c-values';
import { guardStatement, insertBeforeStatement } from './statement-insertion';
import { boundsPath } from './path-steps';

/** The array an index selects from, its length as written, and where its memory lives. */
interface IndexedArray {
  kind: 'stack' | 'map_value';
  lengthText: string;
}

const LOOKUP_HELPERS = new Set(['bpf_map_lookup_elem', 'bpf_map_lookup_percpu_elem']);

/** `__type(value, __u64[MAX_SLOTS])` → `MAX_SLOTS`, for a pointer every assignment of which is a lookup in such a map. */
function lookedUpArrayLength(file: ProbeFile, fn: ProbeFunction, local: LocalVariable): string | null {
  const values = [local.value];
  for (const node of fn.body.descendantsOfType('assignment_expression')) {
    if (node?.childForFieldName('left')?.text === local.name) values.push(node.childForFieldName('right'));
  }
  const lengths = new Set<string>();
  for (const value of values) {
    if (!value) continue;
    const call = stripCasts(value);
    const mapArgument = call.type === 'call_expression' && LOOKUP_HELPERS.has(call.childForFieldName('function')?.text ?? '') ? call.childForFieldName('arguments')?.namedChild(0) : null;
    const mapName = mapArgument ? /^&\s*(\w+)$/.exec(file.textOf(mapArgument))?.[1] : undefined;
    const valueType = mapName ? file.mapNamed(mapName)?.valueType : undefined;
    const length = valueType ? /\[([^\]]+)\]$/.exec(valueType)?.[1].trim() : undefined;
    if (!length) return null;
    lengths.add(length);
  }
  return lengths.size === 1 ? [...lengths][0] : null;
}

/** The array an index selects from, when it lives on the stack, in a map value, or inside a struct (map value). */
function indexedArray(file: ProbeFile, fn: ProbeFunction, base: Node, locals: Map<string, LocalVariable>): IndexedArray | null {
  const expr = stripCasts(base);
  if (expr.type === 'identifier') {
    const local = locals.get(expr.text);
    if (local?.pointerDepth === 0 && local.arrayLengths.length > 0) return { kind: 'stack', lengthText: file.textOf(local.arrayLengths[0]) };
    if (local?.pointerDepth === 1 && local.arrayLengths.length === 0) {
      const length = lookedUpArrayLength(file, fn, local);
      return length ? { kind: 'map_value', lengthText: length } : null;
    }
    if (local) return null;
    // a global array lives in the .bss/.data map: its elements are map value memory
    const global = globalArray(file, expr.text);
    return global ? { kind: 'map_value', lengthText: file.textOf(global.length) } : null;
  }
  if (expr.type === 'field_expression') {
    const field = expr.childForFieldName('field')?.text;
    const length = field ? arrayFieldLength(file, field) : undefined;
    if (!length) return null;
    const owner = identifierName(expr.childForFieldName('argument'));
    const ownerLocal = owner ? locals.get(owner) : undefined;
    const onStack = expr.childForFieldName('operator')?.text === '.' && ownerLocal != null && ownerLocal.pointerDepth === 0;
    return { kind: onStack ? 'stack' : 'map_value', lengthText: length };
  }
  return null;
}

function startArrayIndexes(file: ProbeFile, fn: ProbeFunction) {
  const findings: Finding[] = [];
  const reported = new Set<number>();
  const domain = valueRangeDomain(file, fn, {
    visit(node, query) {
      if (node.type !== 'subscript_expression') return;
      const base = node.childForFieldName('argument');
      const index = node.childForFieldName('index');
      if (!base || !index || reported.has(node.startIndex)) return;
      const array = indexedArray(file, fn, base, query.locals);
      if (!array) return;
      const constantIndex = evaluateConstant(file, index);
      if (constantIndex != null) {
        const length = evaluateConstantText(file, array.lengthText);
        if (length == null || (constantIndex >= 0 && constantIndex < length)) return;
        reported.add(node.startIndex);
        findings.push({
          range: file.rangeOf(node),
          // past a map value the verifier refuses; on the stack it lands in another variable or outside the frame
          severity: array.kind === 'map_value' ? 'error' : 'warning',
          message: `index ${file.textOf(index)} is outside ${file.textOf(base)}[${array.lengthText}] (valid: 0..${length - 1})`,
          verifierMessage: array.kind === 'map_value' ? 'invalid access to map value' : 'invalid write to stack',
        });
        return;
      }
      const range = query.rangeOf(index);
      if (range.upper && range.lower) return;
      reported.add(node.startIndex);
      const indexText = file.textOf(index);
      const lengthText = array.lengthText;
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
        path: boundsPath(file, fn, stripCasts(index), node, range.upper ? `indexed here with '${indexText}' possibly negative` : `indexed here with no upper bound known for '${indexText}'`),
        ...(fixEdit ? { fix: { title: `Bound '${variable}' before indexing`, edits: [fixEdit] } } : {}),
      });
    },
  });
  return { domain, result: () => findings };
}

const arrayIndexesFlow = defineFlowAnalysis('unbounded-array-index', startArrayIndexes);

export function checkArrayIndexes(file: ProbeFile, fn: ProbeFunction): Finding[] {
  return flowResult(file, fn, arrayIndexesFlow);
}

export const unboundedArrayIndexRule: Rule = {
  id: 'unbounded-array-index',
  description: 'A variable index into a stack array or an array in a map value is not provably within the array (no clamp or mask, or a signed index).',
  verifierMessage: 'R1 unbounded memory access, make sure to bound it',
  checkFunction: checkArrayIndexes,
};
