// Rule nullable-pointer-unchecked: the result of a helper that can return NULL (map lookup, ringbuf
// reserve, socket lookup …) is dereferenced on a path where no null check happened. Uses flow-walker.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Finding, PathStep, Rule } from './rule';
import { branchSteps, mergeSteps, testSteps } from './path-steps';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts, type FlowDomain } from '../analysis/flow-walker';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { declaratorShape, evaluateConstant, evaluateConstantText, identifierName, localVariables, type LocalVariable } from '../analysis/c-values';
import { kernelHas } from '../kernel/kernel-version';
import { insertAfterStatement, insertAtBodyStart, neutralReturn } from './statement-insertion';

/** Helpers whose pointer result may be NULL, with the register type the verifier names. */
const NULLABLE_HELPERS: Readonly<Record<string, string>> = {
  bpf_map_lookup_elem: 'map_value_or_null',
  bpf_map_lookup_percpu_elem: 'map_value_or_null',
  bpf_ringbuf_reserve: 'ringbuf_mem_or_null',
  bpf_sk_lookup_tcp: 'sock_or_null',
  bpf_sk_lookup_udp: 'sock_or_null',
  bpf_skc_lookup_tcp: 'sock_common_or_null',
  bpf_sk_fullsock: 'sock_or_null',
  bpf_tcp_sock: 'tcp_sock_or_null',
  bpf_get_listener_sock: 'sock_or_null',
  bpf_sk_storage_get: 'map_value_or_null',
  bpf_task_storage_get: 'map_value_or_null',
  bpf_inode_storage_get: 'map_value_or_null',
  bpf_cgrp_storage_get: 'map_value_or_null',
  bpf_per_cpu_ptr: 'ptr_or_null_',
  bpf_dynptr_data: 'mem_or_null',
  bpf_skc_to_tcp_sock: 'ptr_or_null_tcp_sock',
  bpf_skc_to_tcp6_sock: 'ptr_or_null_tcp6_sock',
  bpf_skc_to_udp6_sock: 'ptr_or_null_udp6_sock',
  bpf_skc_to_tcp_timewait_sock: 'ptr_or_null_tcp_timewait_sock',
  bpf_skc_to_tcp_request_sock: 'ptr_or_null_tcp_request_sock',
  bpf_skc_to_unix_sock: 'ptr_or_null_unix_sock',
  bpf_skc_to_mptcp_sock: 'ptr_or_null_mptcp_sock',
  bpf_sock_from_file: 'ptr_or_null_socket',
};

/** Calls that may take a possibly-NULL pointer in the given argument position. */
const NULL_TOLERANT_ARGUMENTS: Readonly<Record<string, number[]>> = {
  bpf_probe_read: [2], bpf_probe_read_kernel: [2], bpf_probe_read_user: [2], bpf_probe_read_str: [2],
  bpf_probe_read_kernel_str: [2], bpf_probe_read_user_str: [2], bpf_printk: [1, 2, 3, 4, 5, 6], bpf_trace_printk: [2, 3, 4],
};

type Nullness = 'maybe' | 'null' | 'nonnull';
type State = Map<string, Nullness>;

interface Origin {
  helper: string;
  call: Node;
  /** An array-map lookup with a constant in-range key: non-NULL for the verifier from this kernel on. */
  nonNullSince?: string;
}

const GLOBAL_ARGUMENT = 'global-function argument';
const CONTEXT_TYPES = /\bstruct\s+(xdp_md|__sk_buff|pt_regs|bpf_sock_ops|bpf_sock_addr|bpf_sock|sk_msg_md|sk_reuseport_md|bpf_perf_event_data|bpf_raw_tracepoint_args|bpf_sockopt|bpf_sysctl|bpf_cgroup_dev_ctx|bpf_sk_lookup|bpf_nf_ctx)\b/;

/** Kernels from 6.14 know that an ARRAY/PERCPU_ARRAY lookup with a constant in-range key cannot fail. */
const CONSTANT_ARRAY_KEY_SINCE = '6.14';

/** Whether `bpf_map_lookup_elem(&map, &key)` reads an array map with a key that is a constant below max_entries. */
function isConstantArrayLookup(file: ProbeFile, fn: ProbeFunction, call: Node): boolean {
  const args = call.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
  const mapName = args[0] ? stripCasts(args[0]) : null;
  const map = mapName?.type === 'pointer_expression' ? file.mapNamed(stripCasts(mapName.childForFieldName('argument') as Node).text) : undefined;
  if (!map || !/^BPF_MAP_TYPE_(PERCPU_)?ARRAY$/.test(map.type ?? '')) return false;
  const keyArg = args[1] ? stripCasts(args[1]) : null;
  const keyName = keyArg?.type === 'pointer_expression' ? stripCasts(keyArg.childForFieldName('argument') as Node) : null;
  if (keyName?.type !== 'identifier') return false;
  const local = localVariables(file, fn).get(keyName.text);
  const key = local?.value ? evaluateConstant(file, local.value) : null;
  const entries = map.maxEntries ? (evaluateConstantText(file, map.maxEntries) ?? NaN) : NaN;
  if (key == null || !(key >= 0 && key < entries)) return false;
  // the key must stay that constant: no other write to it in the function
  const body = file.textOf(fn.body).replace(file.textOf((local as LocalVariable).declaration), '');
  return !new RegExp(`\\b${keyName.text}\\s*([-+*/|&^]?=(?!=)|\\+\\+|--)|(\\+\\+|--)\\s*${keyName.text}\\b`).test(body);
}


/** When each kind of helper returns NULL, for the first step of the path. */
function whenNull(helper: string): string {
  if (/^bpf_map_lookup/.test(helper)) return 'when the key has no entry';
  if (helper === 'bpf_ringbuf_reserve') return 'when the ring buffer has no room';
  if (/_lookup_(tcp|udp)$/.test(helper)) return 'when no socket matches';
  if (/_storage_get$/.test(helper)) return 'when there is no storage and none is created';
  return 'on failure';
}

/** The path to a use of a maybe-NULL pointer: where it came from, tests of it the path went around, the branches taken, the use. */
function nullPath(file: ProbeFile, fn: ProbeFunction, name: string, origin: Origin, use: Node): PathStep[] {
  const from: PathStep =
    origin.helper === GLOBAL_ARGUMENT
      ? { range: file.rangeOf(origin.call), message: `'${name}' is an argument of the global function '${fn.name}': the verifier checks it alone and assumes it may be NULL` }
      : { range: file.rangeOf(origin.call), message: `'${name}' may be NULL from here: ${origin.helper}() returns NULL ${whenNull(origin.helper)}` };
  const tested = new RegExp(`^(!\\s*${name}|${name}\\s*[!=]=\\s*(NULL|0)|${name})$`);
  const tests = testSteps(file, fn, origin.call, use, (condition) => tested.test(condition), `'${name}' is tested here, but the use below is not only reached where the test found it non-NULL`);
  return [from, ...mergeSteps(branchSteps(file, fn, use, origin.call), tests), { range: file.rangeOf(use), message: `used here while '${name}' may still be NULL` }];
}

function nullableHelperOf(value: Node | null): string | null {
  if (!value) return null;
  const expr = stripCasts(value);
  if (expr.type !== 'call_expression') return null;
  const name = expr.childForFieldName('function')?.text ?? '';
  return Object.hasOwn(NULLABLE_HELPERS, name) ? name : null;
}

function isNullConstant(file: ProbeFile, node: Node): boolean {
  return evaluateConstant(file, node) === 0;
}

function joinNullness(a: Nullness | undefined, b: Nullness | undefined): Nullness | undefined {
  if (a === undefined) return b === 'null' ? undefined : b;
  if (b === undefined) return a === 'null' ? undefined : a;
  return a === b ? a : 'maybe';
}

/**
 * Narrows a pointer and its copies (they share one Origin, as the verifier shares one register id). A pointer
 * already proven non-NULL stays so: the contrary branch cannot be taken.
 */
function narrow(state: State, name: string, isNull: boolean, origins: Map<string, Origin>): void {
  const origin = origins.get(name);
  for (const alias of [...state.keys()].filter((other) => other === name || (origin != null && origins.get(other) === origin))) {
    if (state.get(alias) === 'nonnull') continue;
    state.set(alias, isNull ? 'null' : 'nonnull');
  }
}

function startNullableDereferences(file: ProbeFile, fn: ProbeFunction) {
  const origins = new Map<string, Origin>();
  const findings: Finding[] = [];
  const reported = new Set<number>();

  const report = (name: string, use: Node, state: State) => {
    state.set(name, 'nonnull');
    if (reported.has(use.startIndex)) return;
    reported.add(use.startIndex);
    const origin = origins.get(name);
    if (!origin) return;
    const originLine = origin.call.startPosition.row + 1;
    const acceptedHere = origin.nonNullSince != null && kernelHas(file.targetKernel, origin.nonNullSince);
    findings.push({
      range: file.rangeOf(use),
      ...(acceptedHere ? { severity: 'warning' as const } : {}),
      message: acceptedHere
        ? `'${name}' comes from an array-map lookup with a constant in-range key on line ${originLine}: Linux ${origin.nonNullSince}+ knows it cannot be NULL, older kernels refuse this use without a null check`
        : origin.helper === GLOBAL_ARGUMENT
          ? `'${fn.name}' is a global (non-static) function, so the verifier checks it on its own and its pointer argument '${name}' may be NULL; check it, make the function static, or mark the argument __arg_nonnull`
          : `'${name}' comes from ${origin.helper}() on line ${originLine}, which returns NULL on failure; check it before using it on this path`,
      path: nullPath(file, fn, name, origin, use),
      verifierMessage: `invalid mem access '${origin.helper === GLOBAL_ARGUMENT ? 'mem_or_null' : NULLABLE_HELPERS[origin.helper]}'`,
      fix: {
        title: `Insert a null check for '${name}'`,
        edits: [
          origin.helper === GLOBAL_ARGUMENT
            ? insertAtBodyStart(file, fn, [`if (!${name})`, `\t${neutralReturn(fn)}`])
            : insertAfterStatement(file, origin.call, [`if (!${name})`, `\t${neutralReturn(fn)}`]),
        ],
      },
    });
  };

  // a global (non-static) __noinline function is verified on its own: each pointer argument may be NULL
  // (without __noinline clang usually inlines it and no separate check happens)
  const globalFunction = !fn.isProgram && !fn.isStatic && fn.isNoinline;
  const domain: FlowDomain<State> = {
    initial() {
      const state: State = new Map();
      if (!globalFunction) return state;
      for (const param of fn.params) {
        const text = file.textOf(param.node);
        if (!param.name || !param.type.includes('*') || /^(const\s+)?void\s*\*$/.test(param.type.trim()) || CONTEXT_TYPES.test(param.type) || /__arg_(nonnull|ctx|trusted)/.test(text)) continue;
        state.set(param.name, 'maybe');
        origins.set(param.name, { helper: GLOBAL_ARGUMENT, call: param.node });
      }
      return state;
    },
    clone: (state) => new Map(state),
    join(a, b) {
      const joined: State = new Map();
      for (const name of new Set([...a.keys(), ...b.keys()])) {
        const value = joinNullness(a.get(name), b.get(name));
        if (value) joined.set(name, value);
      }
      return joined;
    },
    equals: (a, b) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v),
    assign(target, value, state, operator) {
      const name = target.type === 'identifier' ? target.text : declaratorShape(target).name?.text;
      if (!name || operator !== '=') return;
      const helper = nullableHelperOf(value);
      if (helper && value) {
        const call = stripCasts(value);
        const constantKey = helper === 'bpf_map_lookup_elem' && isConstantArrayLookup(file, fn, call);
        origins.set(name, { helper, call, ...(constantKey ? { nonNullSince: CONSTANT_ARRAY_KEY_SINCE } : {}) });
        state.set(name, 'maybe');
        return;
      }
      const source = identifierName(value);
      const copied = source ? state.get(source) : undefined;
      if (source && copied) {
        const origin = origins.get(source);
        if (origin) origins.set(name, origin);
        state.set(name, copied);
      } else {
        state.delete(name);
      }
    },
    assume(condition, truth, state) {
      const expr = stripCasts(condition);
      const direct = identifierName(expr);
      if (direct && state.has(direct)) {
        narrow(state, direct, !truth, origins);
        return;
      }
      if (expr.type !== 'binary_expression') return;
      const op = expr.childForFieldName('operator')?.text;
      if (op !== '==' && op !== '!=') return;
      const left = expr.childForFieldName('left');
      const right = expr.childForFieldName('right');
      if (!left || !right) return;
      const [pointer, other] = identifierName(left) && state.has(identifierName(left) as string) ? [identifierName(left), right] : [identifierName(right), left];
      if (!pointer || !state.has(pointer) || !isNullConstant(file, other)) return;
      narrow(state, pointer, (op === '==') === truth, origins);
    },
    visit(node, state) {
      const unsafe = (name: string | null): name is string => name != null && (state.get(name) === 'maybe' || state.get(name) === 'null');
      if (node.type === 'field_expression' && node.childForFieldName('operator')?.text === '->') {
        const base = identifierName(node.childForFieldName('argument'));
        if (unsafe(base)) report(base, node, state);
      } else if (node.type === 'pointer_expression' && node.childForFieldName('operator')?.text === '*') {
        const base = identifierName(node.childForFieldName('argument'));
        if (unsafe(base)) report(base, node, state);
      } else if (node.type === 'subscript_expression') {
        const base = identifierName(node.childForFieldName('argument'));
        if (unsafe(base)) report(base, node, state);
      } else if (node.type === 'call_expression') {
        const callee = node.childForFieldName('function')?.text ?? '';
        const isHelperOrBuiltin = file.kernel.helper(callee) != null || /^__(sync|atomic)_/.test(callee) || Object.hasOwn(NULL_TOLERANT_ARGUMENTS, callee);
        if (!isHelperOrBuiltin || file.functionNamed(callee)) return;
        const tolerant = NULL_TOLERANT_ARGUMENTS[callee] ?? [];
        const args = node.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
        args.forEach((arg, index) => {
          const name = identifierName(arg);
          if (!tolerant.includes(index) && unsafe(name)) report(name, arg, state);
        });
      }
    },
  };
  return { domain, result: () => findings };
}

const nullableDereferencesFlow = defineFlowAnalysis('nullable-pointer-unchecked', startNullableDereferences);

export function checkNullableDereferences(file: ProbeFile, fn: ProbeFunction): Finding[] {
  return flowResult(file, fn, nullableDereferencesFlow);
}

export const nullablePointerUncheckedRule: Rule = {
  id: 'nullable-pointer-unchecked',
  description: 'A pointer from a helper that can return NULL (bpf_map_lookup_elem, bpf_ringbuf_reserve, bpf_sk_lookup_tcp …) is used on a path without a null check.',
  verifierMessage: "R0 invalid mem access 'map_value_or_null'",
  checkFunction: checkNullableDereferences,
};
