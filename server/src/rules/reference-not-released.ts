// Rule reference-not-released: a ring buffer reservation (or socket reference) that some path leaves
// the function without submitting/discarding (releasing). Uses flow-walker; quick fix inserts the discard.
import type { SyntaxNode as Node } from '../analysis/syntax-node';
import type { Range } from 'vscode-languageserver-types';
import type { Finding, PathStep, Rule } from './rule';
import type { ProbeFile, ProbeFunction } from '../analysis/probe-file';
import { stripCasts, type FlowDomain } from '../analysis/flow-walker';
import { defineFlowAnalysis, flowResult } from '../analysis/shared-flow-walk';
import { declaratorShape, evaluateConstant, identifierName } from '../analysis/c-values';
import { insertBeforeStatement } from './statement-insertion';
import { exitInstructionRange } from './program-exit';
import { branchSteps, mergeSteps } from './path-steps';

interface Acquirer {
  what: string;
  releasers: string[];
  /** What releasing it is called, for messages ("submitted or discarded"). */
  released: string;
  /** The statement the quick fix inserts before the leaking exit. */
  release: (name: string) => string;
}

const ACQUIRERS: Readonly<Record<string, Acquirer>> = {
  bpf_ringbuf_reserve: {
    what: 'ring buffer reservation',
    releasers: ['bpf_ringbuf_submit', 'bpf_ringbuf_discard'],
    released: 'submitted or discarded',
    release: (name) => `bpf_ringbuf_discard(${name}, 0);`,
  },
  bpf_sk_lookup_tcp: { what: 'socket reference', releasers: ['bpf_sk_release'], released: 'released', release: (name) => `bpf_sk_release(${name});` },
  bpf_sk_lookup_udp: { what: 'socket reference', releasers: ['bpf_sk_release'], released: 'released', release: (name) => `bpf_sk_release(${name});` },
  bpf_skc_lookup_tcp: { what: 'socket reference', releasers: ['bpf_sk_release'], released: 'released', release: (name) => `bpf_sk_release(${name});` },
};

/** 'maybe': may be NULL (nothing to release on the NULL path); 'held': known non-NULL and unreleased. */
type Holding = 'maybe' | 'held';
type State = Map<string, Holding>;

interface Origin {
  helper: string;
  call: Node;
}

/** A reference some exits leave held. */
interface Leak {
  origin: Origin;
  exits: Node[];
}

function acquirerOf(value: Node | null): string | null {
  if (!value) return null;
  const expr = stripCasts(value);
  if (expr.type !== 'call_expression') return null;
  const name = expr.childForFieldName('function')?.text ?? '';
  return Object.hasOwn(ACQUIRERS, name) ? name : null;
}

function startUnreleasedReferences(file: ProbeFile, fn: ProbeFunction) {
  const origins = new Map<string, Origin>();
  const leaks = new Map<string, Leak>();

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
      const args = node.childForFieldName('arguments')?.namedChildren.filter((a) => a.type !== 'comment') ?? [];
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
        if (!origin) continue;
        const leak = leaks.get(name) ?? { origin, exits: [] };
        leaks.set(name, leak);
        if (!leak.exits.some((exit) => exit.id === node.id)) leak.exits.push(node);
      }
    },
  };
  return { domain, result: () => [...leaks].flatMap(([name, leak]) => leakFindings(file, fn, name, leak)) };
}

/** The kernel checks references at the program's exit instruction: one finding there, the leaking returns as its path; a subprogram's leaks at each return. */
function leakFindings(file: ProbeFile, fn: ProbeFunction, name: string, { origin, exits }: Leak): Finding[] {
  const acquirer = ACQUIRERS[origin.helper];
  const exitRange = (exit: Node) => (exit.type === 'return_statement' ? file.rangeOf(exit) : file.offsetRange(exit.endIndex - 1, exit.endIndex));
  const acquired: PathStep = { range: file.rangeOf(origin.call), message: `'${name}' holds a ${acquirer.what} from here: ${origin.helper}() on line ${origin.call.startPosition.row + 1}` };
  const leaving = (exit: Node): PathStep[] => [...branchSteps(file, fn, exit, origin.call), { range: exitRange(exit), message: `the function returns here with '${name}' not ${acquirer.released}` }];
  const finding = (range: Range, leaksAt: Node[]): Finding => ({
    range,
    message: `the ${acquirer.what} '${name}' from ${origin.helper}() on line ${origin.call.startPosition.row + 1} is not ${acquirer.released} on ${leaksAt.length > 1 ? `the paths through lines ${leaksAt.map((e) => e.startPosition.row + 1).join(', ')}` : `the path through line ${leaksAt[0].startPosition.row + 1}`} when the function returns`,
    verifierMessage: 'Unreleased reference id=2 alloc_insn=4 BPF_EXIT instruction in main prog would lead to reference leak',
    path: mergeSteps([acquired], ...leaksAt.map(leaving)),
    fix: { title: `Insert ${acquirer.release(name)} before ${leaksAt.length > 1 ? 'these exits' : 'this exit'}`, edits: leaksAt.map((exit) => insertBeforeStatement(file, exit, [acquirer.release(name)])) },
  });
  return fn.isProgram ? [finding(exitInstructionRange(file, fn), exits)] : exits.map((exit) => finding(exitRange(exit), [exit]));
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
