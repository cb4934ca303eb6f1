// Rule helper-argument-kind: a helper given a pointer of the wrong kind, judged from where the variable's value
// comes from (a plain-number task for task storage, a map value for ringbuf submit, a borrowed socket for release, an unchecked ctx->sk).
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, QuickFix, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts } from '../analysis/flow-walker';
import { declaratorShape } from '../analysis/c-values';
import { enclosingStatement } from './statement-insertion';
import { branchSteps, testSteps } from './path-steps';

/** What kind of pointer a value is, from the expression that produced it. */
type Kind = 'number-task' | 'btf-task' | 'ringbuf-record' | 'map-value' | 'acquired-socket' | 'borrowed-socket' | 'unknown';

interface Requirement {
  index: number;
  /** The kinds that make the kernel refuse the call. */
  refused: Kind[];
  verifierMessage: (register: string, kind: Kind) => string;
  explain: (arg: string, kind: Kind) => string;
  fix?: (file: ProbeFile, call: Node, origins: Origin[]) => QuickFix | undefined;
}

interface Origin {
  kind: Kind;
  node: Node;
}

const KIND_OF_CALL: Readonly<Record<string, Kind>> = {
  bpf_get_current_task: 'number-task',
  bpf_get_current_task_btf: 'btf-task',
  bpf_ringbuf_reserve: 'ringbuf-record',
  bpf_map_lookup_elem: 'map-value',
  bpf_map_lookup_percpu_elem: 'map-value',
  bpf_sk_lookup_tcp: 'acquired-socket',
  bpf_sk_lookup_udp: 'acquired-socket',
  bpf_skc_lookup_tcp: 'acquired-socket',
  bpf_sk_fullsock: 'borrowed-socket',
  bpf_tcp_sock: 'borrowed-socket',
  bpf_get_listener_sock: 'borrowed-socket',
};

/** How the verifier sees a value of each kind, for the path. */
const KIND_WORDS: Readonly<Record<Kind, string>> = {
  'number-task': 'a plain number to the verifier (scalar), not a task pointer',
  'btf-task': 'a BTF task pointer',
  'ringbuf-record': 'a ring buffer reservation',
  'map-value': 'a pointer into a map value',
  'acquired-socket': 'a socket reference the program holds',
  'borrowed-socket': 'a socket the program borrowed (no reference taken)',
  unknown: 'a value of unknown kind',
};

const btfTaskFix = (file: ProbeFile, _call: Node, origins: Origin[]): QuickFix | undefined => {
  const calls = origins.map((o) => o.node).filter((n) => n.type === 'call_expression');
  if (calls.length === 0) return undefined;
  return {
    title: 'Use bpf_get_current_task_btf() (a task pointer the verifier can follow)',
    edits: calls.map((call) => ({ range: file.rangeOf(outermostCast(call)), newText: 'bpf_get_current_task_btf()' })),
  };
};

const TASK_ARGUMENT: Omit<Requirement, 'index'> = {
  refused: ['number-task'],
  verifierMessage: (register) => `${register} type=scalar expected=ptr_, trusted_ptr_, rcu_ptr_`,
  explain: (arg) => `'${arg}' comes from bpf_get_current_task(), which the verifier sees as a plain number, but this helper needs a BTF task pointer; use bpf_get_current_task_btf()`,
  fix: btfTaskFix,
};

const RINGBUF_RECORD: Omit<Requirement, 'index'> = {
  refused: ['map-value'],
  verifierMessage: (register) => `${register} type=map_value expected=ringbuf_mem`,
  explain: (arg) => `'${arg}' points into a map value, not a ring buffer reservation; only what bpf_ringbuf_reserve() returned can be submitted or discarded (copy a map value with bpf_ringbuf_output())`,
  fix(file, call) {
    const ringbufs = file.maps.filter((map) => map.type === 'BPF_MAP_TYPE_RINGBUF');
    const args = callArguments(call);
    if (ringbufs.length !== 1 || !args[0] || (call.childForFieldName('function')?.text ?? '') !== 'bpf_ringbuf_submit') return undefined;
    const record = file.textOf(args[0]);
    return {
      title: `Copy it with bpf_ringbuf_output(&${ringbufs[0].name}, …)`,
      edits: [{ range: file.rangeOf(call), newText: `bpf_ringbuf_output(&${ringbufs[0].name}, ${record}, sizeof(*${record}), ${args[1] ? file.textOf(args[1]) : '0'})` }],
    };
  },
};

const REQUIREMENTS: Readonly<Record<string, Requirement[]>> = {
  bpf_task_storage_get: [{ index: 1, ...TASK_ARGUMENT }],
  bpf_task_storage_delete: [{ index: 1, ...TASK_ARGUMENT }],
  bpf_get_task_stack: [{ index: 0, ...TASK_ARGUMENT }],
  bpf_task_pt_regs: [{ index: 0, ...TASK_ARGUMENT }],
  bpf_ringbuf_submit: [{ index: 0, ...RINGBUF_RECORD }],
  bpf_ringbuf_discard: [{ index: 0, ...RINGBUF_RECORD }],
  bpf_sk_release: [
    {
      index: 0,
      refused: ['borrowed-socket'],
      verifierMessage: (register) => `${register} must be referenced when passed to release function`,
      explain: (arg) => `'${arg}' is a socket the program borrowed (skb->sk, bpf_sk_fullsock(), bpf_tcp_sock()), not a reference it took with bpf_sk_lookup_*(); there is nothing to release`,
      fix(file, call) {
        const statement = enclosingStatement(call);
        if (statement.type !== 'expression_statement') return undefined;
        const start = file.positionAt(statement.startIndex);
        return {
          title: 'Remove bpf_sk_release() (the socket was borrowed, not acquired)',
          edits: [{ range: { start: { line: start.line, character: 0 }, end: { line: start.line + 1, character: 0 } }, newText: '' }],
        };
      },
    },
  ],
};

function callArguments(call: Node): Node[] {
  return call.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
}

/** `(struct task_struct *)bpf_get_current_task()` → the cast around the call, so a fix replaces both. */
function outermostCast(node: Node): Node {
  let current = node;
  while (current.parent && (current.parent.type === 'cast_expression' || current.parent.type === 'parenthesized_expression')) current = current.parent;
  return current;
}

function kindOf(value: Node): Kind {
  const expr = stripCasts(value);
  if (expr.type === 'call_expression') return KIND_OF_CALL[expr.childForFieldName('function')?.text ?? ''] ?? 'unknown';
  // skb->sk, ctx->sk, skops->sk: the context's socket is borrowed
  if (expr.type === 'field_expression' && expr.childForFieldName('field')?.text === 'sk') return 'borrowed-socket';
  return 'unknown';
}

/** Every value a local is given in the function (initialiser and assignments); null when it escapes or is written through &. */
function originsOf(fn: ProbeFunction, name: string): Origin[] | null {
  const origins: Origin[] = [];
  for (const node of fn.body.descendantsOfType(['init_declarator', 'assignment_expression', 'pointer_expression'])) {
    if (!node) continue;
    if (node.type === 'pointer_expression') {
      const target = node.childForFieldName('argument');
      if (node.childForFieldName('operator')?.text === '&' && target && stripCasts(target).text === name) return null;
      continue;
    }
    const target = node.type === 'init_declarator' ? node.childForFieldName('declarator') : node.childForFieldName('left');
    const value = node.childForFieldName(node.type === 'init_declarator' ? 'value' : 'right');
    const targetName = target ? (target.type === 'identifier' ? target.text : declaratorShape(target).name?.text) : null;
    if (targetName !== name || !value) continue;
    origins.push({ kind: kindOf(value), node: stripCasts(value) });
  }
  return origins;
}

export function checkHelperArgumentKinds(file: ProbeFile, fn: ProbeFunction): Finding[] {
  const findings: Finding[] = [];
  for (const call of fn.helperCalls) {
    for (const requirement of REQUIREMENTS[call.name] ?? []) {
      const arg = call.args[requirement.index];
      if (!arg) continue;
      const expr = stripCasts(arg);
      const origins = expr.type === 'identifier' ? originsOf(fn, expr.text) : [{ kind: kindOf(expr), node: expr }];
      // every value the argument can have is of a refused kind (one unknown origin and it may be right)
      if (!origins || origins.length === 0 || !origins.every((o) => requirement.refused.includes(o.kind))) continue;
      const register = `R${requirement.index + 1}`;
      const fix = requirement.fix?.(file, call.node, origins);
      findings.push({
        range: file.rangeOf(arg),
        message: `${call.name}(): ${requirement.explain(file.textOf(arg), origins[0].kind)}`,
        verifierMessage: requirement.verifierMessage(register, origins[0].kind),
        path: [
          ...origins.filter((o) => o.node.id !== expr.id).map((o) => ({ range: file.rangeOf(o.node), message: `'${file.textOf(arg)}' gets its value here: ${KIND_WORDS[o.kind]}` })),
          { range: file.rangeOf(arg), message: `passed to ${call.name}() as argument ${requirement.index + 1} (${register})` },
        ],
        ...(fix ? { fix } : {}),
      });
    }
  }
  return findings;
}

/** Helpers taking a socket the verifier must know is not NULL (ARG_PTR_TO_SOCK_COMMON). */
const NON_NULL_SOCKET_HELPERS = new Set(['bpf_tcp_sock', 'bpf_sk_fullsock', 'bpf_get_listener_sock']);

/** ctx->sk passed on (directly, or through a local set from it) to such a helper with no NULL test of it on the way. */
function checkContextSocketNotNull(file: ProbeFile, fn: ProbeFunction): Finding[] {
  const context = fn.isProgram ? fn.params[0]?.name : undefined;
  if (!context) return [];
  const isContextSocket = (node: Node) => node.type === 'field_expression' && node.childForFieldName('field')?.text === 'sk' && stripCasts(node.childForFieldName('argument') ?? node).text === context;
  const findings: Finding[] = [];
  for (const call of fn.helperCalls) {
    const arg = call.args[0];
    if (!NON_NULL_SOCKET_HELPERS.has(call.name) || !arg) continue;
    const expr = stripCasts(arg);
    let origin: Node | null = isContextSocket(expr) ? expr : null;
    if (expr.type === 'identifier') {
      const origins = originsOf(fn, expr.text);
      if (!origins || origins.length !== 1 || !isContextSocket(origins[0].node)) continue;
      origin = origins[0].node;
      const name = new RegExp(`(^|\\W)${expr.text}(\\W|$)`);
      if (testSteps(file, fn, origin, call.node, (condition) => name.test(condition), '').length > 0) continue;
    }
    if (!origin) continue;
    findings.push({
      range: file.rangeOf(arg),
      message: `${call.name}(): '${file.textOf(arg)}' may be NULL (${file.textOf(origin)} is NULL when no socket owns the packet), and this helper takes only a socket known to be set; test it first (if (!sk) return …)`,
      verifierMessage: 'R1 type=sock_common_or_null expected=sock_common, sock, tcp_sock, xdp_sock',
      path: [
        ...(origin === expr ? [] : [{ range: file.rangeOf(origin), message: `'${file.textOf(arg)}' is set from ${file.textOf(origin)} here, which is NULL when no socket owns the packet` }]),
        ...branchSteps(file, fn, call.node, origin === expr ? null : origin),
        { range: file.rangeOf(arg), message: `passed to ${call.name}() with no NULL test on this path` },
      ],
    });
  }
  return findings;
}

export const helperArgumentKindRule: Rule = {
  id: 'helper-argument-kind',
  description: 'A helper is given a pointer of the wrong kind: a bpf_get_current_task() number where a BTF task is needed, a map value to bpf_ringbuf_submit(), a borrowed socket to bpf_sk_release(), a maybe-NULL skb->sk to bpf_tcp_sock().',
  verifierMessage: 'R2 type=scalar expected=ptr_, trusted_ptr_, rcu_ptr_',
  checkFunction: (file, fn) => [...checkHelperArgumentKinds(file, fn), ...checkContextSocketNotNull(file, fn)],
};
