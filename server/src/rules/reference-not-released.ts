// Rule reference-not-released: a ring buffer reservation (or socket reference) that some path leaves
// the function without submitting/discarding (releasing). Uses flow-walker; quick fix inserts the discard.
import type { Node } from 'web-tree-sitter';
import type { Finding, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts, type FlowDomain } from '../analysis/flow-walker';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { declaratorShape, evaluateConstant, identifierName } from '../analysis/c-values';
import { insertBeforeStatement } from './statement-insertion';

interface Acquirer {
  what: string;
  releasers: string[];
  /** The statement the quick fix inserts before the leaking exit. */
  release: (name: string) => string;
}

const ACQUIRERS: Readonly<Record<string, Acquirer>> = {
  bpf_ringbuf_reserve: {
    what: 'ring buffer reservation',
    releasers: ['bpf_ringbuf_submit', 'bpf_ringbuf_discard'],
    release: (name) => `bpf_ringbuf_discard(${name}, 0);`,
  },
  bpf_sk_lookup_tcp: { what: 'socket reference', releasers: ['bpf_sk_release'], release: (name) => `bpf_sk_release(${name});` },
  bpf_sk_lookup_udp: { what: 'socket reference', releasers: ['bpf_sk_release'], release: (name) => `bpf_sk_release(${name});` },
  bpf_skc_lookup_tcp: { what: 'socket reference', releasers: ['bpf_sk_release'], release: (name) => `bpf_sk_release(${name});` },
};

/** 'maybe': may be NULL (nothing to release on the NULL path); 'held': known non-NULL and unreleased. */
type Holding = 'maybe' | 'held';
type State = Map<string, Holding>;

interface Origin {
  helper: string;
  call: Node;
}


function acquirerOf(value: Node | null): string | null {
  if (!value) return null;
  const expr = stripCasts(value);
  if (expr.type !== 'call_expression') return null;
  const name = expr.childForFieldName('function')?.text ?? '';
  return Object.hasOwn(ACQUIRERS, name) ? name : null;
}

function startUnreleasedReferences(file: ProbeFile, _fn: ProbeFunction) {
  const origins = new Map<string, Origin>();
  const findings: Finding[] = [];
  const reported = new Set<string>();

  const domain: FlowDomain<State> = {
    initial: () => new Map(),
    clone: (state) => new Map(state),
    join(a, b) {
      const joined: State = new Map();
      for (const name of new Set([...a.keys(), ...b.keys()])) {
        const x = a.get(name);
        const y = b.get(name);
        joined.set(name, x === 'held' || y === 'held' ? 'held' : 'maybe');
      }
      return joined;
    },
    equals: (a, b) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v),
    assign(target, value, state, operator) {
      const name = target.type === 'identifier' ? target.text : declaratorShape(target).name?.text;
      const source = identifierName(value);
      // storing the pointer anywhere else hands it on: whoever holds it now releases it
      if (source && state.has(source) && operator === '=') {
        const holding = state.get(source) as Holding;
        state.delete(source);
        if (name && target.type !== 'field_expression') {
          state.set(name, holding);
          const origin = origins.get(source);
          if (origin) origins.set(name, origin);
        }
        return;
      }
      if (!name || operator !== '=') return;
      const helper = acquirerOf(value);
      if (helper && value) {
        origins.set(name, { helper, call: stripCasts(value) });
        state.set(name, 'maybe');
      } else {
        state.delete(name);
      }
    },
    assume(condition, truth, state) {
      const expr = stripCasts(condition);
      let name = identifierName(expr);
      let nonNull = truth;
      if (!name && expr.type === 'binary_expression') {
        const op = expr.childForFieldName('operator')?.text;
        const left = expr.childForFieldName('left');
        const right = expr.childForFieldName('right');
        if ((op === '==' || op === '!=') && left && right) {
          const [pointer, other] = identifierName(left) ? [identifierName(left), right] : [identifierName(right), left];
          if (pointer && evaluateConstant(file, other) === 0) {
            name = pointer;
            nonNull = (op === '!=') === truth;
          }
        }
      }
      if (!name || !state.has(name)) return;
      if (nonNull) state.set(name, 'held');
      else state.delete(name);
    },
    visit(node, state) {
      if (node.type !== 'call_expression') return;
      const callee = node.childForFieldName('function')?.text ?? '';
      const args = node.childForFieldName('arguments')?.namedChildren.filter((a): a is Node => a != null && a.type !== 'comment') ?? [];
      const isLocalFunction = file.functionNamed(callee) != null;
      for (const arg of args) {
        const name = identifierName(arg);
        if (!name || !state.has(name)) continue;
        const origin = origins.get(name);
        const releases = origin && ACQUIRERS[origin.helper].releasers.includes(callee);
        // a local function that receives the pointer is trusted to submit or discard it
        if (releases || isLocalFunction) state.delete(name);
      }
    },
    exit(node, state) {
      if (node.type === 'return_statement') {
        const returned = identifierName(node.namedChild(0));
        if (returned) state.delete(returned);
      }
      for (const name of state.keys()) {
        const origin = origins.get(name);
        const key = `${name}@${node.startIndex}`;
        if (!origin || reported.has(key)) continue;
        reported.add(key);
        const acquirer = ACQUIRERS[origin.helper];
        const at = node.type === 'return_statement' ? file.rangeOf(node) : file.offsetRange(node.endIndex - 1, node.endIndex);
        findings.push({
          range: at,
          message: `the ${acquirer.what} '${name}' from ${origin.helper}() on line ${origin.call.startPosition.row + 1} is not ${acquirer.releasers.map((r) => r.replace(/^bpf_(ringbuf_)?/, '')).join(' or ')}ed on this path when the function returns here`,
          verifierMessage: 'Unreleased reference id=2 alloc_insn=4 BPF_EXIT instruction in main prog would lead to reference leak',
          fix: { title: `Insert ${acquirer.release(name)} before this exit`, edits: [insertBeforeStatement(file, node, [acquirer.release(name)])] },
        });
      }
    },
  };
  return { domain, result: () => findings };
}

const unreleasedReferencesFlow = defineFlowAnalysis('reference-not-released', startUnreleasedReferences);

export function checkUnreleasedReferences(file: ProbeFile, fn: ProbeFunction): Finding[] {
  return flowResult(file, fn, unreleasedReferencesFlow);
}

export const referenceNotReleasedRule: Rule = {
  id: 'reference-not-released',
  description: 'A ring buffer reservation is not submitted or discarded (or a socket reference not released) on every path out of the function.',
  verifierMessage: 'Unreleased reference id=2 alloc_insn=4 BPF_EXIT instruction in main prog would lead to reference leak',
  checkFunction: checkUnreleasedReferences,
};
