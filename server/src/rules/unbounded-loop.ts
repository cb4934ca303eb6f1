// Rule unbounded-loop: a loop whose exit the verifier cannot bound (no counter compared with a bounded
// value, pointer chasing, for(;;) with a data-dependent break), and any non-unrolled loop before Linux 5.3.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts } from '../analysis/flow-walker';
import { valueRangeDomain, type RangeQuery } from '../analysis/value-ranges';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { formatKernelVersion, kernelHas } from '../kernel/kernel-version';

const BOUNDED_LOOPS_SINCE = '5.3';
type Direction = 'up' | 'down' | 'shrink';

function loopHeaderRange(file: ProbeFile, loop: Node) {
  const body = loop.childForFieldName('body');
  const end = loop.type === 'do_statement' || !body ? loop.startIndex + 2 : body.startIndex;
  return file.offsetRange(loop.startIndex, Math.max(loop.startIndex + 1, end));
}

function hasUnrollPragma(file: ProbeFile, loop: Node): boolean {
  for (let row = loop.startPosition.row - 1; row >= 0 && row >= loop.startPosition.row - 3; row--) {
    const line = file.lines[row]?.trim() ?? '';
    if (/^#\s*pragma\s+(clang\s+loop\s+unroll|unroll|GCC\s+unroll)/.test(line)) return true;
    if (line && !line.startsWith('//') && !line.startsWith('#')) return false;
  }
  return false;
}

/** How each variable changes inside the loop (body, test and for-update: `while (n--)` counts down). */
function counterDirections(loop: Node): Map<string, Direction> {
  const directions = new Map<string, Direction>();
  const parts = [loop.childForFieldName('body'), loop.childForFieldName('condition'), ...loop.childrenForFieldName('update')].filter((n): n is Node => n != null);
  for (const part of parts) {
    for (const node of part.descendantsOfType(['update_expression', 'assignment_expression'])) {
      const target = stripCasts((node.childForFieldName('argument') ?? node.childForFieldName('left')) as Node);
      if (target.type !== 'identifier') continue;
      const op = node.type === 'update_expression' ? (node.text.includes('++') ? '++' : '--') : (node.childForFieldName('operator')?.text ?? '');
      const right = node.childForFieldName('right');
      let direction: Direction | null = null;
      if (op === '++' || op === '+=') direction = 'up';
      else if (op === '--' || op === '-=') direction = 'down';
      else if (op === '>>=' || op === '/=') direction = 'shrink';
      else if (op === '=' && right) {
        const value = stripCasts(right);
        const valueOp = value.type === 'binary_expression' ? value.childForFieldName('operator')?.text : null;
        const usesSelf = value.type === 'binary_expression' && stripCasts(value.childForFieldName('left') as Node).text === target.text;
        if (usesSelf && valueOp === '+') direction = 'up';
        else if (usesSelf && valueOp === '-') direction = 'down';
        else if (usesSelf && (valueOp === '>>' || valueOp === '/')) direction = 'shrink';
      }
      if (direction && !directions.has(target.text)) directions.set(target.text, direction);
    }
  }
  return directions;
}

function conjuncts(node: Node, op: '&&' | '||'): Node[] {
  const expr = node.type === 'parenthesized_expression' && node.namedChild(0) ? (node.namedChild(0) as Node) : node;
  if (expr.type === 'binary_expression' && expr.childForFieldName('operator')?.text === op) {
    return [...conjuncts(expr.childForFieldName('left') as Node, op), ...conjuncts(expr.childForFieldName('right') as Node, op)];
  }
  return [expr];
}

/** Whether `condition` being `staysWhile` keeps the loop going only while a counter has not crossed a bound. */
/** `++i` / `i--` inside a test compares the counter itself. */
function counterOf(node: Node): Node {
  const expr = stripCasts(node);
  return expr.type === 'update_expression' && expr.childForFieldName('argument') ? stripCasts(expr.childForFieldName('argument') as Node) : expr;
}

function boundsLoop(condition: Node, staysWhile: boolean, directions: Map<string, Direction>, query: RangeQuery): boolean {
  const expr = counterOf(condition);
  if (expr.type === 'identifier') return staysWhile && (directions.get(expr.text) === 'shrink' || directions.get(expr.text) === 'down');
  if (expr.type === 'unary_expression' && expr.childForFieldName('operator')?.text === '!') {
    return boundsLoop(expr.childForFieldName('argument') as Node, !staysWhile, directions, query);
  }
  if (expr.type !== 'binary_expression') return false;
  let op = expr.childForFieldName('operator')?.text ?? '';
  let left = expr.childForFieldName('left') as Node;
  let right = expr.childForFieldName('right') as Node;
  if (!['<', '<=', '>', '>=', '!=', '=='].includes(op)) return false;
  if (!staysWhile) op = ({ '<': '>=', '<=': '>', '>': '<=', '>=': '<', '==': '!=', '!=': '==' } as Record<string, string>)[op];
  if (!directions.has(counterOf(left).text)) {
    [left, right] = [right, left];
    op = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' } as Record<string, string>)[op];
  }
  const direction = directions.get(counterOf(left).text);
  if (!direction) return false;
  const limit = query.rangeOf(right);
  if (direction === 'up') return (op === '<' || op === '<=' || op === '!=') && limit.upper;
  return op === '>' || op === '>=' || op === '!=';
}

/** `if (cond) break;` statements that leave this loop (not an inner one or a switch). */
function breakConditions(loop: Node): Node[] {
  const conditions: Node[] = [];
  const visit = (node: Node) => {
    for (const child of node.namedChildren) {
      if (!child || ['for_statement', 'while_statement', 'do_statement', 'switch_statement'].includes(child.type)) continue;
      if (child.type === 'if_statement') {
        const consequence = child.childForFieldName('consequence');
        const breaks = consequence?.type === 'break_statement' || (consequence?.type === 'compound_statement' && consequence.namedChildren.some((c) => c?.type === 'break_statement' || c?.type === 'return_statement'));
        const returns = consequence?.type === 'return_statement';
        const condition = child.childForFieldName('condition');
        if ((breaks || returns) && condition) conditions.push(condition);
      }
      visit(child);
    }
  };
  const body = loop.childForFieldName('body');
  if (body) visit(body);
  return conditions;
}

function startLoops(file: ProbeFile, fn: ProbeFunction) {
  const findings: Finding[] = [];
  const seen = new Set<number>();
  const iteratorMacros = new Set(file.macros.filter((m) => m.kind === 'loop').map((m) => m.start));
  const boundedLoopsAvailable = kernelHas(file.targetKernel, BOUNDED_LOOPS_SINCE);
  const domain = valueRangeDomain(file, fn, {
    loopEntry(loop, query) {
      if (seen.has(loop.startIndex) || iteratorMacros.has(loop.startIndex)) return;
      seen.add(loop.startIndex);
      if (!boundedLoopsAvailable) {
        if (hasUnrollPragma(file, loop)) return;
        findings.push({
          range: loopHeaderRange(file, loop),
          message: `the target kernel ${formatKernelVersion(file.targetKernel)} accepts no loops (bounded loops arrived in ${BOUNDED_LOOPS_SINCE}); unroll it with '#pragma unroll' and a constant bound`,
          verifierMessage: 'back-edge from insn 12 to 5',
        });
        return;
      }
      const directions = counterDirections(loop);
      const condition = loop.childForFieldName('condition');
      const continuing = condition ? conjuncts(condition, '&&') : [];
      const exits = breakConditions(loop).flatMap((c) => conjuncts(c, '||'));
      const bounded = continuing.some((c) => boundsLoop(c, true, directions, query)) || exits.some((c) => boundsLoop(c, false, directions, query));
      if (bounded) return;
      if (condition && /^(0|false)$/.test(stripCasts(condition).text)) return;
      findings.push({
        range: loopHeaderRange(file, loop),
        message: condition
          ? `the verifier cannot bound this loop: '${file.textOf(condition)}' does not compare a counter that moves each iteration with a constant or a bounded value; add one (e.g. 'i < MAX_ITER &&'), or use bpf_loop() (5.17+)`
          : `the verifier cannot bound this loop: it has no condition and no counter-based break; add a constant bound (for (i = 0; i < MAX_ITER; i++)) or use bpf_loop() (5.17+)`,
        verifierMessage: 'BPF program is too large. Processed 1000001 insn',
        path: [
          ...(loop.childForFieldName('body') ? [{ range: file.rangeOf(loop.childForFieldName('body') as Node), message: 'the verifier walks this body once per iteration it cannot rule out, until it gives up at 1,000,000 instructions' }] : []),
          ...[...continuing, ...exits].map((c) => ({ range: file.rangeOf(c), message: `the loop ${continuing.includes(c) ? 'goes on while' : 'leaves when'} '${file.textOf(c)}', which bounds no counter the verifier can follow` })),
        ],
      });
    },
  });
  return { domain, result: () => findings };
}

const loopsFlow = defineFlowAnalysis('unbounded-loop', startLoops);

export function checkLoops(file: ProbeFile, fn: ProbeFunction): Finding[] {
  return flowResult(file, fn, loopsFlow);
}


export const unboundedLoopRule: Rule = {
  id: 'unbounded-loop',
  description: 'A loop the verifier cannot prove terminates (no counter against a bounded limit), or any non-unrolled loop for targets before 5.3.',
  verifierMessage: 'BPF program is too large. Processed 1000001 insn',
  checkFunction: checkLoops,
};
