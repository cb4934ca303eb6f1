// Rule packet-bounds-unchecked: an XDP/TC program reads a header through a packet pointer that no
// `ptr + N > data_end` check on this path covers. Uses flow-walker; quick fix inserts the bounds check.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, PathStep, Rule } from './rule';
import { branchSteps, mergeSteps, testSteps, valueSteps } from './path-steps';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts, type FlowDomain } from '../analysis/flow-walker';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { declaratorShape, evaluateConstant, localVariables, typeSize, type LocalVariable } from '../analysis/c-values';
import { insertBeforeStatement, neutralReturn } from './statement-insertion';

/** Where a pointer points: `anchor` is the packet start ('data') or a variable-offset pointer; offset in bytes. */
interface PacketPointer {
  anchor: string;
  offset: number;
  /** For a pointer at a run-time offset: the anchor it was computed from. */
  from?: string;
}

/** Verified bytes from each anchor on the current path. */
type State = Map<string, number>;

const CONTEXT_TYPES = /\b(struct\s+xdp_md|struct\s+__sk_buff|struct\s+sk_msg_md)\b/;

/** The program types that read packets through data/data_end. */
const PACKET_PROGRAM_TYPES = ['xdp', 'sched_cls', 'sched_act', 'sk_skb', 'sk_msg', 'lwt_in', 'lwt_out', 'lwt_xmit', 'cgroup_skb', 'flow_dissector'];

class PacketAnalysis implements FlowDomain<State> {
  readonly pointers = new Map<string, PacketPointer>();
  readonly endNames = new Set<string>();
  readonly findings: Finding[] = [];
  private readonly locals: Map<string, LocalVariable>;
  private readonly reported = new Set<number>();
  private fresh = 0;

  constructor(
    private readonly file: ProbeFile,
    private readonly fn: ProbeFunction,
  ) {
    this.locals = localVariables(file, fn);
  }

  initial(): State {
    return new Map();
  }
  clone(state: State): State {
    return new Map(state);
  }
  join(a: State, b: State): State {
    const joined: State = new Map();
    for (const [anchor, bytes] of a) {
      const other = b.get(anchor);
      if (other !== undefined) joined.set(anchor, Math.min(bytes, other));
    }
    return joined;
  }
  equals(a: State, b: State): boolean {
    return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
  }

  private isContextField(expr: Node, field: string): boolean {
    if (expr.type !== 'field_expression' || expr.childForFieldName('field')?.text !== field) return false;
    const owner = stripCasts(expr.childForFieldName('argument') as Node);
    const local = owner.type === 'identifier' ? this.locals.get(owner.text) : undefined;
    return local != null && CONTEXT_TYPES.test(local.baseType);
  }

  isDataEnd(node: Node): boolean {
    const expr = stripCasts(node);
    return (expr.type === 'identifier' && this.endNames.has(expr.text)) || this.isContextField(expr, 'data_end');
  }

  /** Size of what a pointer variable points to, in bytes (1 for void/char pointers). */
  private elementSize(expr: Node): number | null {
    const inner = stripCasts(expr);
    if (expr.type === 'cast_expression') {
      const type = this.file.textOf(expr.childForFieldName('type') ?? expr);
      if (/\b(void|char|u8|__u8)\s*\*$/.test(type.trim())) return 1;
      const star = type.replace(/\*\s*$/, '').trim();
      if (type.trim().endsWith('*')) return typeSize(this.file, star);
    }
    if (inner.type === 'identifier') {
      const local = this.locals.get(inner.text);
      if (!local || local.pointerDepth !== 1) return 1;
      return /^(void|char|u8|__u8|unsigned char)$/.test(local.baseType) ? 1 : typeSize(this.file, local.baseType);
    }
    return 1;
  }

  pointerOf(node: Node): PacketPointer | null {
    const expr = stripCasts(node);
    if (expr.type === 'identifier') return this.pointers.get(expr.text) ?? null;
    if (this.isContextField(expr, 'data')) return { anchor: 'data', offset: 0 };
    if (expr.type === 'binary_expression' && ['+', '-'].includes(expr.childForFieldName('operator')?.text ?? '')) {
      const leftNode = expr.childForFieldName('left');
      const rightNode = expr.childForFieldName('right');
      if (!leftNode || !rightNode) return null;
      const base = this.pointerOf(leftNode);
      if (!base) return null;
      const count = evaluateConstant(this.file, rightNode, this.locals);
      const scale = this.elementSize(leftNode.type === 'parenthesized_expression' ? (leftNode.namedChild(0) as Node) : leftNode);
      if (count == null) return { anchor: `variable#${this.fresh++}`, offset: 0, from: base.anchor };
      if (scale == null) return null;
      const sign = expr.childForFieldName('operator')?.text === '-' ? -1 : 1;
      return { anchor: base.anchor, offset: base.offset + sign * count * scale };
    }
    return null;
  }

  assign(target: Node, value: Node | null, _state: State, operator: string): void {
    const name = target.type === 'identifier' ? target.text : declaratorShape(target).name?.text;
    if (!name || operator !== '=' || target.type === 'field_expression') return;
    if (value && this.isDataEnd(value)) {
      this.endNames.add(name);
      return;
    }
    const pointer = value ? this.pointerOf(value) : null;
    if (pointer) {
      this.pointers.set(name, pointer.anchor.startsWith('variable#') ? { anchor: `variable:${name}`, offset: 0 } : pointer);
    } else {
      this.pointers.delete(name);
    }
  }

  assume(condition: Node, truth: boolean, state: State): void {
    const expr = stripCasts(condition);
    if (expr.type !== 'binary_expression') return;
    let op = expr.childForFieldName('operator')?.text ?? '';
    const left = expr.childForFieldName('left');
    const right = expr.childForFieldName('right');
    if (!left || !right || !['<', '<=', '>', '>='].includes(op)) return;
    let pointerSide: Node;
    if (this.isDataEnd(right)) pointerSide = left;
    else if (this.isDataEnd(left)) {
      pointerSide = right;
      op = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as Record<string, string>)[op];
    } else return;
    const verified = ((op === '>' || op === '>=') && !truth) || ((op === '<' || op === '<=') && truth);
    if (!verified) return;
    const pointer = this.pointerOf(pointerSide);
    if (!pointer) return;
    // `data + off > data_end` with a run-time off: the verifier may know off's range; stop judging that anchor
    if (pointer.from) state.set(pointer.from, Number.POSITIVE_INFINITY);
    else state.set(pointer.anchor, Math.max(state.get(pointer.anchor) ?? 0, pointer.offset));
  }

  /** `*(__u16 *)(data + 12)`: a read at a constant offset from a packet pointer. */
  private checkCastRead(node: Node, base: Node, state: State): void {
    const pointer = this.pointerOf(base);
    const size = castReadSize(this.file, base);
    if (!pointer || pointer.anchor !== 'data' || size == null) return;
    const needed = pointer.offset + size;
    const checked = state.get('data') ?? 0;
    if (checked >= needed || this.mayBeSunkBelowCheck(node)) return;
    this.reported.add(node.startIndex);
    this.findings.push({
      range: this.file.rangeOf(node),
      message: `reading ${this.file.textOf(node)} needs bytes ${pointer.offset}..${needed} of the packet checked against data_end, but on this path only ${checked} bytes are`,
      verifierMessage: `invalid access to packet, off=${pointer.offset} size=${size}, R1(id=0,off=${pointer.offset},r=${checked}) R1 offset is outside of the packet`,
      path: this.pathTo(node, null, `bytes ${pointer.offset}..${needed}`),
    });
  }

  private endChecks: number[] | null = null;

  /**
   * A read stored into a variable before a later data_end check may be moved below that check by the
   * compiler (its value is only needed afterwards), and then the verifier accepts it: stay quiet there.
   */
  private mayBeSunkBelowCheck(node: Node): boolean {
    let statement: Node = node;
    while (statement.parent && statement.parent.type !== 'compound_statement') statement = statement.parent;
    const stored =
      statement.type === 'declaration' ||
      (statement.type === 'expression_statement' && statement.namedChild(0)?.type === 'assignment_expression');
    if (!stored) return false;
    this.endChecks ??= this.fn.body
      .descendantsOfType('binary_expression')
      .filter((b) => ['<', '<=', '>', '>='].includes(b.childForFieldName('operator')?.text ?? ''))
      .filter((b) => [b.childForFieldName('left'), b.childForFieldName('right')].some((side) => side != null && this.isDataEnd(side)))
      .map((b) => b.startIndex);
    return this.endChecks.some((at) => at > node.endIndex);
  }

  /** Where the pointer came from, the data_end checks that do not cover the read, the branches taken, the read. */
  private pathTo(node: Node, pointerName: string | null, needed: string): PathStep[] {
    const ends = [...this.endNames, 'data_end'];
    const testsEnd = (condition: string) => ends.some((end) => new RegExp(`\\b${end}\\b`).test(condition));
    return [
      ...mergeSteps(
        pointerName ? valueSteps(this.file, this.fn, pointerName, node) : [],
        testSteps(this.file, this.fn, this.fn.body, node, testsEnd, `checked against data_end here, but that check does not cover this read on this path`),
        branchSteps(this.file, this.fn, node),
      ),
      { range: this.file.rangeOf(node), message: `read here, with no data_end check on this path covering ${needed}` },
    ];
  }

  visit(node: Node, state: State): void {
    let base: Node | null = null;
    if (node.type === 'field_expression' && node.childForFieldName('operator')?.text === '->') base = node.childForFieldName('argument');
    else if (node.type === 'pointer_expression' && node.childForFieldName('operator')?.text === '*') base = node.childForFieldName('argument');
    if (!base || this.reported.has(node.startIndex)) return;
    const name = stripCasts(base);
    if (name.type !== 'identifier') {
      if (node.type === 'pointer_expression') this.checkCastRead(node, base, state);
      return;
    }
    const pointer = this.pointers.get(name.text);
    const local = this.locals.get(name.text);
    if (!pointer || !local || local.pointerDepth !== 1) return;
    const size = /^(void)$/.test(local.baseType) ? null : typeSize(this.file, local.baseType);
    if (size == null) return;
    const needed = pointer.offset + size;
    const checked = state.get(pointer.anchor) ?? (pointer.anchor === 'data' ? 0 : -1);
    if (checked >= needed || this.mayBeSunkBelowCheck(node)) return;
    this.reported.add(node.startIndex);
    const end = [...this.endNames][0] ?? '(void *)(long)ctx->data_end';
    const where = pointer.anchor === 'data' ? `bytes ${pointer.offset}..${needed} of the packet` : `its ${size} bytes (its offset is computed at run time)`;
    this.findings.push({
      range: this.file.rangeOf(node),
      message:
        checked < 0
          ? `'${name.text}' has a run-time offset into the packet and no 'if ((void *)(${name.text} + 1) > ${end})' check on this path; reading ${this.file.textOf(node)} needs ${where} checked`
          : `reading ${this.file.textOf(node)} needs ${where} checked against ${end}, but on this path only ${checked} bytes are; add 'if ((void *)(${name.text} + 1) > ${end})' before it`,
      verifierMessage: `invalid access to packet, off=${Math.max(pointer.offset, 0)} size=${size}, R1(id=0,off=${Math.max(pointer.offset, 0)},r=${Math.max(checked, 0)}) R1 offset is outside of the packet`,
      path: this.pathTo(node, name.text, where),
      fix: {
        title: `Check '${name.text}' against data_end`,
        edits: [insertBeforeStatement(this.file, node, [`if ((void *)(${name.text} + 1) > ${end})`, `\t${neutralReturn(this.fn)}`])],
      },
    });
  }
}

/** Bytes a `*(T *)(expr)` read takes, from the cast's pointee type. */
function castReadSize(file: ProbeFile, base: Node): number | null {
  let current: Node = base;
  while (current.type === 'parenthesized_expression' && current.namedChild(0)) current = current.namedChild(0) as Node;
  if (current.type !== 'cast_expression') return null;
  const type = file.textOf(current.childForFieldName('type') ?? current).trim();
  return type.endsWith('*') ? typeSize(file, type.replace(/\*\s*$/, '').trim()) : null;
}

function startPacketBounds(file: ProbeFile, fn: ProbeFunction) {
  const analysis = new PacketAnalysis(file, fn);
  return { domain: analysis, result: () => analysis.findings };
}

const packetBoundsFlow = defineFlowAnalysis('packet-bounds-unchecked', startPacketBounds, { programTypes: PACKET_PROGRAM_TYPES });

export function checkPacketBounds(file: ProbeFile, fn: ProbeFunction): Finding[] {
  return flowResult(file, fn, packetBoundsFlow);
}

export const packetBoundsUncheckedRule: Rule = {
  id: 'packet-bounds-unchecked',
  description: 'An XDP/TC program reads packet data through a pointer that no dominating `ptr + N > data_end` check covers.',
  programTypes: [...PACKET_PROGRAM_TYPES],
  verifierMessage: 'invalid access to packet, off=12 size=2, R1(id=0,off=12,r=0) R1 offset is outside of the packet',
  checkFunction: checkPacketBounds,
};
