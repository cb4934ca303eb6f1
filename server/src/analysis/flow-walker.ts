// Path-sensitive walk of one C function body (if/else, loops, switch, goto, short-circuit && || ?:) that
// carries an analysis state along every path. The flow rules plug in a FlowDomain; talks to tree-sitter nodes only.
import type { SyntaxNode as Node } from './syntax-node';

/** What an analysis keeps per path, and how it reacts to the code it passes. */
export interface FlowDomain<S extends Map<string, unknown>> {
  /** The state at function entry. */
  initial(): S;
  clone(state: S): S;
  /** The state where two paths meet. */
  join(a: S, b: S): S;
  equals(a: S, b: S): boolean;
  /** An assignment `target = value` (value null for `x++`, `x += …` and declarations without initialiser). */
  assign?(target: Node, value: Node | null, state: S, operator: string, declaration: Node | null): void;
  /** Any expression node, after its operands were visited (calls, field accesses, dereferences …). */
  visit?(node: Node, state: S): void;
  /** Narrows the state on the path where `condition` evaluates to `truth`. */
  assume?(condition: Node, truth: boolean, state: S): void;
  /** A path leaves the function: at a return statement, or at the closing brace (node = the body). */
  exit?(node: Node, state: S): void;
  /** Called at the head of every loop with the state on entry (before the first test). */
  loopEntry?(loop: Node, state: S): void;
}

const LOOP_ITERATION_LIMIT = 4;
/** Branch-prediction wrappers whose first argument is the real condition. */
const BRANCH_HINTS = new Set(['likely', 'unlikely', '__builtin_expect']);

/** Removes parentheses and casts: `((void *)(long)x)` → `x`. */
export function stripCasts(node: Node): Node {
  let current = node;
  for (;;) {
    if (current.type === 'parenthesized_expression' && current.namedChildCount > 0) current = current.namedChild(0) as Node;
    else if (current.type === 'cast_expression' && current.childForFieldName('value')) current = current.childForFieldName('value') as Node;
    else return current;
  }
}

class Walk<S extends Map<string, unknown>> {
  private readonly pendingGotos = new Map<string, S>();
  private breakStates: (S | null)[] = [];
  private continueStates: (S | null)[] = [];

  constructor(private readonly domain: FlowDomain<S>) {}

  private join(a: S | null, b: S | null): S | null {
    if (a == null) return b;
    if (b == null) return a;
    return this.domain.join(a, b);
  }

  /** Walks a statement; returns the state after it, or null when no path falls through. */
  statement(node: Node, state: S | null): S | null {
    if (node.type === 'labeled_statement') {
      const label = node.childForFieldName('label')?.text ?? '';
      state = this.join(state, this.pendingGotos.get(label) ?? null);
      this.pendingGotos.delete(label);
      const inner = node.namedChildren.filter((c) => c.type !== 'statement_identifier');
      for (const child of inner) state = this.statement(child, state);
      return state;
    }
    if (state == null) return null;
    switch (node.type) {
      case 'compound_statement': {
        let current: S | null = state;
        for (const child of node.namedChildren) {
          if (!child || child.type === 'comment') continue;
          current = this.statement(child, current);
        }
        return current;
      }
      case 'declaration':
        this.declaration(node, state);
        return state;
      case 'expression_statement': {
        const expr = node.namedChild(0);
        if (expr) this.expression(expr, state);
        return state;
      }
      case 'if_statement':
        return this.ifStatement(node, state);
      case 'while_statement':
      case 'for_statement':
      case 'do_statement':
        return this.loop(node, state);
      case 'switch_statement':
        return this.switchStatement(node, state);
      case 'return_statement': {
        const value = node.namedChild(0);
        if (value) this.expression(value, state);
        this.domain.exit?.(node, state);
        return null;
      }
      case 'goto_statement': {
        const label = node.childForFieldName('label')?.text ?? '';
        this.pendingGotos.set(label, this.join(this.pendingGotos.get(label) ?? null, this.domain.clone(state)) as S);
        return null;
      }
      case 'break_statement':
        if (this.breakStates.length > 0) this.breakStates[this.breakStates.length - 1] = this.join(this.breakStates.at(-1) ?? null, this.domain.clone(state));
        return null;
      case 'continue_statement':
        if (this.continueStates.length > 0) this.continueStates[this.continueStates.length - 1] = this.join(this.continueStates.at(-1) ?? null, this.domain.clone(state));
        return null;
      case 'case_statement': {
        let current: S | null = state;
        // `case X:` has its value as the first named child; `default:` has none
        const statements = node.childForFieldName('value') ? node.namedChildren.slice(1) : node.namedChildren;
        for (const child of statements) if (child && child.type !== 'comment') current = this.statement(child, current);
        return current;
      }
      default:
        return state;
    }
  }

  declaration(node: Node, state: S): void {
    for (const declarator of node.childrenForFieldName('declarator')) {
      if (!declarator) continue;
      if (declarator.type === 'init_declarator') {
        const target = declarator.childForFieldName('declarator');
        const value = declarator.childForFieldName('value');
        if (value && value.type !== 'initializer_list') this.expression(value, state);
        if (target) this.domain.assign?.(target, value, state, '=', node);
      } else {
        this.domain.assign?.(declarator, null, state, '=', node);
      }
    }
  }

  /** Evaluates a branch node's condition and returns the states for its true and false sides. */
  private branch(node: Node, state: S): [whenTrue: S, whenFalse: S] {
    const condition = node.childForFieldName('condition');
    if (condition) this.expression(condition, state);
    const whenTrue = this.domain.clone(state);
    const whenFalse = this.domain.clone(state);
    if (condition) {
      this.assume(condition, true, whenTrue);
      this.assume(condition, false, whenFalse);
    }
    return [whenTrue, whenFalse];
  }

  private ifStatement(node: Node, state: S): S | null {
    const consequence = node.childForFieldName('consequence');
    const alternative = node.childForFieldName('alternative');
    const [whenTrue, whenFalse] = this.branch(node, state);
    const afterThen = consequence ? this.statement(consequence, whenTrue) : whenTrue;
    const elseBody = alternative?.type === 'else_clause' ? alternative.namedChild(0) : alternative;
    const afterElse = elseBody ? this.statement(elseBody, whenFalse) : whenFalse;
    return this.join(afterThen, afterElse);
  }

  private loop(node: Node, state: S): S | null {
    const condition = node.childForFieldName('condition');
    const body = node.childForFieldName('body');
    if (node.type === 'for_statement') {
      const init = node.childForFieldName('initializer');
      if (init?.type === 'declaration') this.declaration(init, state);
      else if (init) this.expression(init, state);
    }
    this.domain.loopEntry?.(node, state);
    const updates = node.type === 'for_statement' ? node.childrenForFieldName('update') : [];
    let head = this.domain.clone(state);
    let exit: S | null = null;
    for (let i = 0; i < LOOP_ITERATION_LIMIT; i++) {
      const entry = this.domain.clone(head);
      let bodyState: S | null = entry;
      if (condition && node.type !== 'do_statement') {
        this.expression(condition, entry);
        const leaving = this.domain.clone(entry);
        this.assume(condition, false, leaving);
        exit = this.join(exit, leaving);
        this.assume(condition, true, entry);
      }
      this.breakStates.push(null);
      this.continueStates.push(null);
      if (body) bodyState = this.statement(body, bodyState);
      const broke = this.breakStates.pop() ?? null;
      bodyState = this.join(bodyState, this.continueStates.pop() ?? null);
      exit = this.join(exit, broke);
      if (bodyState && node.type === 'do_statement' && condition) {
        this.expression(condition, bodyState);
        const leaving = this.domain.clone(bodyState);
        this.assume(condition, false, leaving);
        exit = this.join(exit, leaving);
        this.assume(condition, true, bodyState);
      }
      if (bodyState) for (const update of updates) this.expression(update, bodyState);
      if (!bodyState) break;
      const next = this.domain.join(head, bodyState);
      if (this.domain.equals(next, head)) break;
      head = next;
    }
    return exit;
  }

  private switchStatement(node: Node, state: S): S | null {
    const condition = node.childForFieldName('condition');
    if (condition) this.expression(condition, state);
    const body = node.childForFieldName('body');
    if (!body) return state;
    this.breakStates.push(null);
    let current: S | null = null;
    let sawDefault = false;
    for (const child of body.namedChildren) {
      if (!child || child.type === 'comment') continue;
      if (child.type === 'case_statement') {
        if (!child.childForFieldName('value')) sawDefault = true;
        current = this.join(current, this.domain.clone(state));
      }
      current = this.statement(child, current);
    }
    const broke = this.breakStates.pop() ?? null;
    let after = this.join(current, broke);
    if (!sawDefault) after = this.join(after, this.domain.clone(state));
    return after;
  }

  /** Narrowing through && || ! and parentheses; leaves the rest to the domain. */
  assume(condition: Node, truth: boolean, state: S): void {
    const node = condition.type === 'parenthesized_expression' && condition.namedChild(0) ? (condition.namedChild(0) as Node) : condition;
    if (node !== condition) return this.assume(node, truth, state);
    if (node.type === 'call_expression' && BRANCH_HINTS.has(node.childForFieldName('function')?.text ?? '')) {
      const hinted = node.childForFieldName('arguments')?.namedChild(0);
      if (hinted) this.assume(hinted, truth, state);
      return;
    }
    if (node.type === 'unary_expression' && node.childForFieldName('operator')?.text === '!') {
      const argument = node.childForFieldName('argument');
      if (argument) this.assume(argument, !truth, state);
      return;
    }
    if (node.type === 'binary_expression') {
      const op = node.childForFieldName('operator')?.text;
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      if (left && right && (op === '&&' || op === '||')) {
        const conjunctive = (op === '&&') === truth;
        if (conjunctive) {
          // a && b true, or a || b false: both hold
          this.assume(left, truth, state);
          this.assume(right, truth, state);
        } else {
          // a && b false: !a, or (a and !b); a || b true: a, or (!a and b)
          const first = this.domain.clone(state);
          this.assume(left, truth, first);
          const second = this.domain.clone(state);
          this.assume(left, !truth, second);
          this.assume(right, truth, second);
          copyInto(state, this.domain.join(first, second));
        }
        return;
      }
    }
    this.domain.assume?.(node, truth, state);
  }

  /** Visits an expression in evaluation order, applying assignments and short-circuit narrowing. */
  expression(node: Node, state: S): void {
    switch (node.type) {
      case 'binary_expression': {
        const op = node.childForFieldName('operator')?.text;
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left && right && (op === '&&' || op === '||')) {
          this.expression(left, state);
          const rightState = this.domain.clone(state);
          this.assume(left, op === '&&', rightState);
          this.expression(right, rightState);
          const skipped = this.domain.clone(state);
          this.assume(left, op !== '&&', skipped);
          copyInto(state, this.domain.join(skipped, rightState));
          return;
        }
        break;
      }
      case 'conditional_expression': {
        const consequence = node.childForFieldName('consequence');
        const alternative = node.childForFieldName('alternative');
        const [whenTrue, whenFalse] = this.branch(node, state);
        if (consequence) this.expression(consequence, whenTrue);
        if (alternative) this.expression(alternative, whenFalse);
        copyInto(state, this.domain.join(whenTrue, whenFalse));
        this.domain.visit?.(node, state);
        return;
      }
      case 'assignment_expression': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        const op = node.childForFieldName('operator')?.text ?? '=';
        if (right) this.expression(right, state);
        if (left && left.type !== 'identifier') this.expression(left, state);
        if (left) this.domain.assign?.(left, right, state, op, null);
        return;
      }
      case 'update_expression': {
        const argument = node.childForFieldName('argument');
        if (argument) {
          if (argument.type !== 'identifier') this.expression(argument, state);
          this.domain.assign?.(argument, null, state, node.text.includes('++') ? '++' : '--', null);
        }
        return;
      }
      case 'sizeof_expression':
      case 'alignof_expression':
      case 'offsetof_expression':
        return;
      default:
        break;
    }
    for (const child of node.namedChildren) if (child) this.expression(child, state);
    this.domain.visit?.(node, state);
  }
}

/** Replaces the contents of `target` with `source` (states are mutable maps the walk passes around). */
function copyInto<S extends Map<string, unknown>>(target: S, source: S): void {
  target.clear();
  for (const [key, value] of source) target.set(key, value);
}

/** Walks a function body along every path with the given domain. */
export function walkFunctionBody<S extends Map<string, unknown>>(body: Node, domain: FlowDomain<S>): void {
  const walk = new Walk(domain);
  const end = walk.statement(body, domain.initial());
  if (end) domain.exit?.(body, end);
}
