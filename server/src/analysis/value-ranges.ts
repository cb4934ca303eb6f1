// Tracks, along every path of a function, whether integer variables and struct fields (`p->size`) are bounded
// above and known non-negative (clamps, masks, modulo, unsigned checks, early returns), as the verifier's range tracking would.
import type { SyntaxNode as Node } from './syntax-node';
import type { ProbeFile, ProbeFunction } from './probe-file';
import { stripCasts, type FlowDomain } from './flow-walker';
import { declaratorShape, evaluateConstant, fieldDeclaration, isReadOnlyGlobal, isUnsignedType, localVariables, typeSize, type LocalVariable } from './c-values';

export interface Bounds {
  /** Some path-independent constant is known to be ≥ the value. */
  upper: boolean;
  /** The value is known to be ≥ 0. */
  lower: boolean;
}

/** Bounds by local variable name, and by field path (`p->size`, `req.len`) for fields compared on this path. */
type State = Map<string, Bounds>;

/** Answers range questions at one point of one path. */
export interface RangeQuery {
  rangeOf(expr: Node): Bounds;
  locals: Map<string, LocalVariable>;
}

export interface RangeHooks {
  /** Every expression node after its operands, with the ranges on the current path. */
  visit?(node: Node, query: RangeQuery): void;
  /** The head of every loop, with the ranges on entry. */
  loopEntry?(loop: Node, query: RangeQuery): void;
}

/** Helpers whose result the verifier knows to be small and non-negative. */
const BOUNDED_RESULT_CALLS = new Set(['bpf_get_smp_processor_id', 'bpf_get_numa_node_id', 'bpf_get_prandom_u32_bounded']);

const UNKNOWN: Bounds = { upper: false, lower: false };

function both(a: Bounds, b: Bounds): Bounds {
  return { upper: a.upper && b.upper, lower: a.lower && b.lower };
}

/** Bounds a value gets from being stored in a variable of this type (u8 and u16 cannot grow large). */
function typeBounds(file: ProbeFile, type: string, pointerDepth: number): Bounds {
  if (pointerDepth > 0) return UNKNOWN;
  const size = typeSize(file, type);
  const unsigned = isUnsignedType(type);
  return { upper: unsigned && size != null && size <= 2, lower: unsigned };
}

/** `p->size`, `req.hdr.len`: a field reached from a local through fields only, as one key; null otherwise. */
function fieldPath(node: Node): { key: string; root: string; field: string } | null {
  const expr = stripCasts(node);
  if (expr.type !== 'field_expression') return null;
  const parts: string[] = [];
  let current: Node = expr;
  while (current.type === 'field_expression') {
    const field = current.childForFieldName('field');
    const operator = current.childForFieldName('operator')?.text ?? (current.text.includes('->') ? '->' : '.');
    const argument = current.childForFieldName('argument');
    if (!field || !argument) return null;
    parts.unshift(`${operator}${field.text}`);
    current = stripCasts(argument);
  }
  if (current.type !== 'identifier') return null;
  return { key: current.text + parts.join(''), root: current.text, field: expr.childForFieldName('field')?.text ?? '' };
}

/** The local variable an expression stores to or reads from through fields (`p->a.b` → p). */
function rootIdentifier(node: Node): string | null {
  let current = stripCasts(node);
  while (current.type === 'field_expression' || (current.type === 'pointer_expression' && current.childForFieldName('argument'))) {
    current = stripCasts(current.childForFieldName('argument') as Node);
  }
  return current.type === 'identifier' ? current.text : null;
}

class RangeAnalysis implements FlowDomain<State> {
  readonly locals: Map<string, LocalVariable>;
  private readonly trustsParameters: boolean;

  constructor(
    private readonly file: ProbeFile,
    fn: ProbeFunction,
    private readonly hooks: RangeHooks,
  ) {
    this.locals = localVariables(file, fn);
    this.trustsParameters = !fn.isProgram && fn.isStatic;
  }

  initial(): State {
    return new Map();
  }

  clone(state: State): State {
    return new Map(state);
  }

  join(a: State, b: State): State {
    const joined: State = new Map();
    for (const name of new Set([...a.keys(), ...b.keys()])) {
      joined.set(name, both(a.get(name) ?? this.declared(name), b.get(name) ?? this.declared(name)));
    }
    return joined;
  }

  equals(a: State, b: State): boolean {
    if (a.size !== b.size) return false;
    for (const [name, x] of a) {
      const y = b.get(name);
      if (!y || y.upper !== x.upper || y.lower !== x.lower) return false;
    }
    return true;
  }

  private declared(name: string): Bounds {
    const local = this.locals.get(name);
    if (!local) {
      const field = /[.>](\w+)$/.exec(name)?.[1];
      const declaration = field ? fieldDeclaration(this.file, field) : undefined;
      return declaration ? typeBounds(this.file, declaration.baseType, declaration.pointerDepth) : UNKNOWN;
    }
    // a static helper is verified per call site, where its arguments are usually constants or checked values
    if (local.isParameter && this.trustsParameters && local.pointerDepth === 0) return { upper: true, lower: true };
    // an array's name is a fixed stack address, which the verifier knows exactly
    if (!local.isParameter && local.arrayLengths.length > 0) return { upper: true, lower: true };
    return typeBounds(this.file, local.baseType, local.pointerDepth);
  }

  query(state: State): RangeQuery {
    return { rangeOf: (expr) => this.rangeOf(expr, state), locals: this.locals };
  }

  rangeOf(node: Node, state: State): Bounds {
    const constant = evaluateConstant(this.file, node, this.locals);
    if (constant != null) return { upper: true, lower: constant >= 0 };
    if (node.type === 'parenthesized_expression' && node.namedChild(0)) return this.rangeOf(node.namedChild(0) as Node, state);
    if (node.type === 'cast_expression') {
      const typeText = this.file.textOf(node.childForFieldName('type') ?? node).replace(/\s+/g, ' ');
      const inner = node.childForFieldName('value');
      const value = inner ? this.rangeOf(inner, state) : UNKNOWN;
      if (typeText.includes('*')) return UNKNOWN;
      const cast = typeBounds(this.file, typeText, 0);
      return { upper: cast.upper || (value.upper && value.lower), lower: cast.lower || value.lower };
    }
    switch (node.type) {
      case 'field_expression': {
        const path = fieldPath(node);
        return path && this.locals.has(path.root) ? (state.get(path.key) ?? this.declared(path.key)) : UNKNOWN;
      }
      case 'identifier':
        // a const volatile setting, or an ALL_CAPS name from a header this file does not show (a #define constant)
        if (!this.locals.has(node.text) && (isReadOnlyGlobal(this.file, node.text) || /^[A-Z][A-Z0-9_]*$/.test(node.text))) return { upper: true, lower: true };
        return state.get(node.text) ?? this.declared(node.text);
      case 'binary_expression': {
        const op = node.childForFieldName('operator')?.text ?? '';
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (!left || !right) return UNKNOWN;
        const a = this.rangeOf(left, state);
        const b = this.rangeOf(right, state);
        switch (op) {
          case '&': {
            const mask = [evaluateConstant(this.file, right), evaluateConstant(this.file, left)].find((v) => v != null && v >= 0);
            return mask != null ? { upper: true, lower: true } : { upper: (a.upper && a.lower) || (b.upper && b.lower), lower: a.lower || b.lower };
          }
          case '%':
            return { upper: b.upper, lower: a.lower };
          case '+':
          case '*':
          case '|':
          case '^':
            return both(a, b);
          case '-':
            return { upper: a.upper && b.lower, lower: false };
          case '/':
          case '>>':
            return { upper: a.upper, lower: a.lower };
          case '<<':
            return both(a, b);
          case '<': case '<=': case '>': case '>=': case '==': case '!=': case '&&': case '||':
            return { upper: true, lower: true };
          default:
            return UNKNOWN;
        }
      }
      case 'conditional_expression': {
        // `len < MAX ? len : MAX` is a clamp: each branch is judged under its side of the test
        const condition = node.childForFieldName('condition');
        const consequence = node.childForFieldName('consequence');
        const alternative = node.childForFieldName('alternative');
        if (!condition || !consequence || !alternative) return UNKNOWN;
        const whenTrue = this.clone(state);
        const whenFalse = this.clone(state);
        this.assume(condition, true, whenTrue);
        this.assume(condition, false, whenFalse);
        return both(this.rangeOf(consequence, whenTrue), this.rangeOf(alternative, whenFalse));
      }
      case 'call_expression': {
        const callee = node.childForFieldName('function')?.text ?? '';
        if (/^(min|min_t|umin|MIN)$/.test(callee)) {
          const args = (node.childForFieldName('arguments')?.namedChildren ?? []).filter((a) => a.type !== 'type_descriptor');
          const ranges = args.map((a) => this.rangeOf(a, state));
          return { upper: ranges.some((r) => r.upper), lower: ranges.length > 0 && ranges.every((r) => r.lower) };
        }
        // ALL_CAPS calls are macros over constants (ARRAY_SIZE, MIN …)
        // compile-time CO-RE sizes and builtins are constants too
        return BOUNDED_RESULT_CALLS.has(callee) || /^[A-Z_][A-Z0-9_]*$/.test(callee) || /^(bpf_core_(field|type)_(size|offset|exists)|bpf_core_enum_value|__builtin_(offsetof|object_size|constant_p))/.test(callee)
          ? { upper: true, lower: true }
          : UNKNOWN;
      }
      case 'sizeof_expression':
        return { upper: true, lower: true };
      default:
        return UNKNOWN;
    }
  }

  /** Forgets what this path knew about the fields reached through a variable that changed or escaped. */
  private forgetFieldsOf(root: string, state: State): void {
    for (const key of state.keys()) {
      if (key.startsWith(`${root}.`) || key.startsWith(`${root}->`)) state.delete(key);
    }
  }

  assign(target: Node, value: Node | null, state: State, operator: string): void {
    const path = fieldPath(target);
    if (path) {
      if (!this.locals.has(path.root)) return;
      this.forgetFieldsOf(path.key, state);
      const declared = this.declared(path.key);
      const next = operator === '=' && value ? this.rangeOf(value, state) : UNKNOWN;
      state.set(path.key, { upper: next.upper || declared.upper, lower: next.lower || declared.lower });
      return;
    }
    const name = target.type === 'identifier' ? target.text : declaratorShape(target).name?.text;
    if (name) this.forgetFieldsOf(name, state);
    if (!name || !this.locals.has(name) || target.type === 'field_expression') return;
    const declared = this.declared(name);
    const current = state.get(name) ?? declared;
    let next: Bounds;
    if (operator === '=') {
      next = value ? this.rangeOf(value, state) : declared;
    } else if (operator === '++') {
      next = { upper: false, lower: current.lower };
    } else if (operator === '--') {
      next = { upper: current.upper, lower: false };
    } else {
      const rhs = value ? this.rangeOf(value, state) : UNKNOWN;
      const mask = value ? evaluateConstant(this.file, value) : null;
      if (operator === '&=' && mask != null && mask >= 0) next = { upper: true, lower: true };
      else if (operator === '%=') next = { upper: rhs.upper, lower: current.lower };
      else if (operator === '>>=' || operator === '/=') next = current;
      else if (operator === '-=') next = { upper: current.upper && rhs.lower, lower: false };
      else next = { upper: false, lower: current.lower && rhs.lower };
    }
    state.set(name, { upper: next.upper || declared.upper, lower: next.lower || declared.lower });
  }

  assume(condition: Node, truth: boolean, state: State): void {
    const expr = stripCasts(condition);
    if (expr.type === 'comma_expression' && truth) {
      // bpf_for(i, 0, n) is masked to while (i, 0, n): the iterator keeps i within [start, end)
      const counter = expr.namedChild(0);
      if (counter?.type === 'identifier' && this.locals.has(counter.text)) state.set(counter.text, { upper: true, lower: true });
      return;
    }
    if (expr.type === 'identifier' && !truth && this.locals.has(expr.text)) {
      state.set(expr.text, { upper: true, lower: true });
      return;
    }
    if (expr.type !== 'binary_expression') return;
    let op = expr.childForFieldName('operator')?.text ?? '';
    let left = expr.childForFieldName('left');
    let right = expr.childForFieldName('right');
    if (!left || !right) return;
    if (!['<', '<=', '>', '>=', '==', '!='].includes(op)) return;
    if (!truth) op = ({ '<': '>=', '<=': '>', '>': '<=', '>=': '<', '==': '!=', '!=': '==' } as Record<string, string>)[op];
    if (this.trackedName(left) == null) {
      [left, right] = [right, left];
      op = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' } as Record<string, string>)[op];
    }
    const name = this.trackedName(left);
    if (name == null) return;
    const castUnsigned = left.type === 'cast_expression' && isUnsignedType(this.file.textOf(left.childForFieldName('type') ?? left));
    const current = state.get(name) ?? this.declared(name);
    const other = this.rangeOf(right, state);
    const next = { ...current };
    if (op === '<' || op === '<=') {
      if (other.upper) next.upper = true;
      if (castUnsigned && other.upper) next.lower = true;
    } else if (op === '>' || op === '>=') {
      if (other.lower) next.lower = true;
    } else if (op === '==') {
      if (other.upper) next.upper = true;
      if (other.lower) next.lower = true;
    }
    state.set(name, next);
  }

  /** The state key of a compared expression: a local's name or a field path from a local; null for anything else. */
  private trackedName(node: Node): string | null {
    const expr = stripCasts(node);
    if (expr.type === 'identifier') return this.locals.has(expr.text) ? expr.text : null;
    const path = fieldPath(expr);
    return path && this.locals.has(path.root) ? path.key : null;
  }

  visit(node: Node, state: State): void {
    this.hooks.visit?.(node, this.query(state));
    if (node.type !== 'call_expression') return;
    // a call may write through any pointer it is given (bpf_probe_read(&req, …), fill(p))
    for (const arg of node.childForFieldName('arguments')?.namedChildren ?? []) {
      const root = arg ? rootIdentifier(arg) : null;
      if (root) this.forgetFieldsOf(root, state);
    }
  }

  loopEntry(loop: Node, state: State): void {
    this.hooks.loopEntry?.(loop, this.query(state));
  }
}

/** The range tracking of one function as a flow domain that calls the hooks with the ranges on each path (walk it with shared-flow-walk). */
export function valueRangeDomain(file: ProbeFile, fn: ProbeFunction, hooks: RangeHooks): FlowDomain<Map<string, Bounds>> {
  return new RangeAnalysis(file, fn, hooks);
}
