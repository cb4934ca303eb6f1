// Rule unbounded-helper-size: the size argument of bpf_probe_read*, bpf_perf_event_output, bpf_get_stack …
// is a variable with no upper bound or possibly negative on this path. Uses value-ranges; fix inserts a clamp.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { valueRangeDomain } from '../analysis/value-ranges';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { arrayFieldLength, evaluateConstant, fieldSize, identifierName, isUnsignedType, variableSize, type LocalVariable } from '../analysis/c-values';
import { stripCasts } from '../analysis/flow-walker';
import { insertBeforeStatement, neutralReturn } from './statement-insertion';
import { boundsPath } from './path-steps';

/** Helper → [index of the size argument, index of the buffer it sizes]. */
const SIZE_ARGUMENTS: Readonly<Record<string, [number, number]>> = {
  bpf_probe_read: [1, 0], bpf_probe_read_kernel: [1, 0], bpf_probe_read_user: [1, 0],
  bpf_probe_read_str: [1, 0], bpf_probe_read_kernel_str: [1, 0], bpf_probe_read_user_str: [1, 0],
  bpf_copy_from_user: [1, 0], bpf_copy_from_user_task: [1, 0], bpf_get_current_comm: [1, 0],
  bpf_get_stack: [2, 1], bpf_get_task_stack: [2, 1], bpf_perf_event_output: [4, 3], bpf_skb_output: [4, 3],
  bpf_xdp_output: [4, 3], bpf_ringbuf_output: [2, 1], bpf_skb_load_bytes: [3, 2], bpf_xdp_load_bytes: [3, 2],
  bpf_skb_store_bytes: [3, 2], bpf_xdp_store_bytes: [3, 2], bpf_d_path: [2, 1], bpf_snprintf: [1, 0],
  bpf_probe_write_user: [2, 1], bpf_read_branch_records: [2, 1],
};


/** Bytes behind a buffer argument (`buf`, `&e`, `e.comm`, `&d->data`), when the file shows them. */
function bufferSize(file: ProbeFile, arg: Node, locals: Map<string, LocalVariable>): number | null {
  let expr = stripCasts(arg);
  const addressed = expr.type === 'pointer_expression' && expr.childForFieldName('operator')?.text === '&';
  if (addressed) expr = stripCasts(expr.childForFieldName('argument') as Node);
  if (expr.type === 'identifier') {
    const local = locals.get(expr.text);
    if (!local || local.isParameter || local.pointerDepth > 0 || (!addressed && local.arrayLengths.length === 0)) return null;
    return variableSize(file, local);
  }
  if (expr.type === 'field_expression') {
    const field = expr.childForFieldName('field')?.text;
    return field && arrayFieldLength(file, field) ? fieldSize(file, field) : null;
  }
  return null;
}

function startHelperSizes(file: ProbeFile, fn: ProbeFunction) {
  const findings: Finding[] = [];
  const reported = new Set<number>();
  const domain = valueRangeDomain(file, fn, {
    visit(node, query) {
      if (node.type !== 'call_expression') return;
      const callee = node.childForFieldName('function')?.text ?? '';
      if (!Object.hasOwn(SIZE_ARGUMENTS, callee) || file.functionNamed(callee)) return;
      const [sizeIndex, bufferIndex] = SIZE_ARGUMENTS[callee];
      const args = node.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
      const size = args[sizeIndex];
      if (!size || reported.has(size.startIndex)) return;
      const constantSize = evaluateConstant(file, size, query.locals);
      if (constantSize != null) {
        const room = args[bufferIndex] ? bufferSize(file, args[bufferIndex], query.locals) : null;
        if (room == null || constantSize <= room || sizeIndex === bufferIndex) return;
        reported.add(size.startIndex);
        findings.push({
          range: file.rangeOf(size),
          message: `${callee}() is told to use ${constantSize} bytes of '${file.textOf(args[bufferIndex]).replace(/^&/, '')}', which has only ${room}; pass sizeof() of the buffer itself`,
          verifierMessage: `invalid indirect access to stack R${bufferIndex + 1} off=-${room} size=${constantSize}`,
        });
        return;
      }
      const range = query.rangeOf(size);
      if (range.upper && range.lower) return;
      reported.add(size.startIndex);
      const register = `R${sizeIndex + 1}`;
      const sizeText = file.textOf(size);
      const buffer = args[bufferIndex] ? file.textOf(args[bufferIndex]).replace(/^&/, '') : '';
      const variable = identifierName(size);
      const local = variable ? query.locals.get(variable) : undefined;
      const signed = local != null && !isUnsignedType(local.baseType);
      // the cast keeps the comparison in the size variable's width, which the verifier tracks through the call
      const width = local && /^(u32|__u32|unsigned int|unsigned|uint32_t|int|s32|__s32|int32_t)$/.test(local.baseType) ? '(u32)' : '';
      const limit = buffer ? `${width}sizeof(${buffer})` : 'MAX_SIZE';
      const lines = variable
        ? [
            ...(signed && !range.lower ? [`if (${variable} < 0)`, `\t${neutralReturn(fn)}`] : []),
            ...(range.upper ? [] : [`if (${variable} > ${limit})`, `\t${variable} = ${limit};`]),
          ]
        : [];
      findings.push({
        range: file.rangeOf(size),
        message: !range.lower
          ? `size '${sizeText}' passed to ${callee}() may be negative on this path; use an unsigned size, or check it (and clamp it to ${limit})`
          : `size '${sizeText}' passed to ${callee}() has no upper bound on this path; clamp it to ${limit} or mask it (& (MAX - 1))`,
        verifierMessage: !range.lower
          ? `${register} min value is negative, either use unsigned or 'var &= const'`
          : `${register} unbounded memory access, use 'var &= const' or 'if (var < const)'`,
        path: boundsPath(file, fn, stripCasts(size), size, !range.lower ? `passed here as the size while it may be negative` : `passed here as the size with no upper bound known`),
        ...(lines.length > 0 ? { fix: { title: `Bound '${variable}' before ${callee}()`, edits: [insertBeforeStatement(file, node, lines)] } } : {}),
      });
    },
  });
  return { domain, result: () => findings };
}

const helperSizesFlow = defineFlowAnalysis('unbounded-helper-size', startHelperSizes);

export function checkHelperSizes(file: ProbeFile, fn: ProbeFunction): Finding[] {
  return flowResult(file, fn, helperSizesFlow);
}

export const unboundedHelperSizeRule: Rule = {
  id: 'unbounded-helper-size',
  description: 'The size argument of bpf_probe_read*, bpf_perf_event_output, bpf_get_stack … is not provably bounded and non-negative.',
  verifierMessage: "R2 unbounded memory access, use 'var &= const' or 'if (var < const)'",
  checkFunction: checkHelperSizes,
};
