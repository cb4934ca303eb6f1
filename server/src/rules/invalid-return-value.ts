// Rule invalid-return-value: a program returns a constant outside what its program type accepts (cgroup
// and sock_ops 0/1, LSM 0 or -errno, fentry/fexit 0; XDP actions and TC verdicts as warnings). Reads return statements.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts } from '../analysis/flow-walker';
import { declaratorShape, evaluateConstant } from '../analysis/c-values';
import { exitInstructionRange, returnStatements } from './program-exit';
import { branchSteps, mergeSteps } from './path-steps';

interface ReturnRange {
  min: number;
  max: number;
  /** What the values mean, for the message. */
  meaning: string;
  /** The verifier enforces the range; otherwise the program loads and the value misbehaves at run time. */
  enforced: boolean;
}

function returnRange(fn: ProbeFunction): ReturnRange | null {
  const section = fn.section ?? '';
  switch (fn.programType) {
    case 'cgroup_skb':
      return /egress/.test(section)
        ? { min: 0, max: 3, meaning: '0 (drop), 1 (allow), 2/3 (with congestion notification)', enforced: true }
        : { min: 0, max: 1, meaning: '0 (drop) or 1 (allow)', enforced: true };
    case 'cgroup_sock':
    case 'cgroup_sock_addr':
    case 'cgroup_device':
    case 'cgroup_sysctl':
    case 'cgroup_sockopt':
      return { min: 0, max: 1, meaning: '0 (reject) or 1 (allow)', enforced: true };
    case 'sock_ops':
      return { min: 0, max: 1, meaning: '0 or 1', enforced: true };
    case 'sk_lookup':
      return { min: 0, max: 1, meaning: 'SK_DROP (0) or SK_PASS (1)', enforced: true };
    case 'netfilter':
      return { min: 0, max: 1, meaning: 'NF_DROP (0) or NF_ACCEPT (1)', enforced: true };
    case 'lsm':
      return /^lsm_cgroup\//.test(section)
        ? { min: 0, max: 1, meaning: '0 (deny) or 1 (allow)', enforced: true }
        : { min: -4095, max: 0, meaning: '0 (allow) or a negative errno (deny)', enforced: true };
    case 'tracing':
      return /^(fentry|fexit)(\.s)?\//.test(section) ? { min: 0, max: 0, meaning: '0', enforced: true } : null;
    case 'xdp':
      return { min: 0, max: 4, meaning: 'an XDP action (XDP_ABORTED … XDP_REDIRECT)', enforced: false };
    case 'sched_cls':
    case 'sched_act':
      return { min: -1, max: 8, meaning: 'a TC verdict (TC_ACT_OK, TC_ACT_SHOT …)', enforced: false };
    default:
      return null;
  }
}

/** Constant values an expression can return: literals, known names, ?: of them, or a local only ever set to them. */
function possibleValues(file: ProbeFile, fn: ProbeFunction, expr: Node): number[] | null {
  const value = evaluateConstant(file, expr);
  if (value != null) return [value];
  const inner = stripCasts(expr);
  if (inner.type === 'conditional_expression') {
    const a = inner.childForFieldName('consequence');
    const b = inner.childForFieldName('alternative');
    const left = a ? possibleValues(file, fn, a) : null;
    const right = b ? possibleValues(file, fn, b) : null;
    return left && right ? [...left, ...right] : null;
  }
  if (inner.type !== 'identifier') return null;
  const values: number[] = [];
  for (const declarator of fn.body.descendantsOfType('init_declarator')) {
    if (!declarator || declaratorShape(declarator.childForFieldName('declarator') as Node).name?.text !== inner.text) continue;
    const init = declarator.childForFieldName('value');
    const v = init ? evaluateConstant(file, init) : null;
    if (v == null) return null;
    values.push(v);
  }
  for (const assignment of fn.body.descendantsOfType('assignment_expression')) {
    if (!assignment || assignment.childForFieldName('left')?.text !== inner.text) continue;
    const right = assignment.childForFieldName('right');
    const v = right && assignment.childForFieldName('operator')?.text === '=' ? evaluateConstant(file, right) : null;
    if (v == null) return null;
    values.push(v);
  }
  for (const update of fn.body.descendantsOfType(['update_expression', 'pointer_expression'])) {
    if (update && update.text.includes(inner.text)) return null;
  }
  return values.length > 0 ? values : null;
}

function registerText(value: number): string {
  return String(value < 0 ? 2 ** 32 + value : value);
}

export function checkReturnValues(file: ProbeFile, fn: ProbeFunction): Finding[] {
  if (!fn.isProgram) return [];
  const range = returnRange(fn);
  if (!range) return [];
  const bad: { statement: Node; value: number; shown: string }[] = [];
  for (const statement of returnStatements(fn)) {
    const value = statement.namedChild(0);
    const values = value ? possibleValues(file, fn, value) : null;
    const outside = values?.find((v) => v < range.min || v > range.max);
    if (!value || outside === undefined) continue;
    const written = file.textOf(value);
    bad.push({ statement, value: outside, shown: written === String(outside) ? String(outside) : `${outside} (${written})` });
  }
  const verifierMessage = (value: number) => `At program exit the register R0 has smin=${registerText(value)} smax=${registerText(value)} should have been in [${range.min}, ${range.max}]`;
  if (!range.enforced) {
    return bad.map(({ statement, value, shown }) => ({
      range: file.rangeOf(statement),
      severity: 'warning',
      message: `${fn.section} programs should return ${range.meaning}; ${shown} is not one, and the kernel treats it as an error at run time`,
      verifierMessage: verifierMessage(value),
    }));
  }
  if (bad.length === 0) return [];
  // the verifier checks R0 at the exit instruction, which clang shares between the returns
  const returned = bad.map(({ shown }) => shown).join(', ');
  return [
    {
      range: exitInstructionRange(file, fn),
      message: `${fn.section} programs must return ${range.meaning}; this program returns ${returned} on ${bad.length > 1 ? 'some paths' : 'a path'} (line${bad.length > 1 ? 's' : ''} ${bad.map(({ statement }) => statement.startPosition.row + 1).join(', ')})`,
      verifierMessage: verifierMessage(bad[0].value),
      path: mergeSteps(...bad.map(({ statement, shown }) => [...branchSteps(file, fn, statement), { range: file.rangeOf(statement), message: `R0 = ${shown} here, outside [${range.min}, ${range.max}]` }])),
    },
  ];
}

export const invalidReturnValueRule: Rule = {
  id: 'invalid-return-value',
  description: 'A program returns a value its program type does not accept (cgroup/sock_ops 0 or 1, LSM 0 or -errno, fentry/fexit 0, XDP actions, TC verdicts).',
  programTypes: ['cgroup_skb', 'cgroup_sock', 'cgroup_sock_addr', 'cgroup_device', 'cgroup_sysctl', 'cgroup_sockopt', 'sock_ops', 'sk_lookup', 'netfilter', 'lsm', 'tracing', 'xdp', 'sched_cls', 'sched_act'],
  verifierMessage: 'At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]',
  checkFunction: checkReturnValues,
};
