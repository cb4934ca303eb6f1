// One path-sensitive walk per function and version for every flow analysis: the analyses' domains run side
// by side as one product domain over a single flow-walker pass, so the tree is walked once, not once per rule.
import type { SyntaxNode as Node } from './syntax-node';
import type { ProbeFile, ProbeFunction } from './probe-file';
import { walkFunctionBody, type FlowDomain } from './flow-walker';

/** What an analysis sets up for one function: its domain, and how to read its result after the walk. */
export interface FlowRun<S extends Map<string, unknown>, R> {
  /** Absent when the function has nothing for this analysis to track: its result needs no walk. */
  domain?: FlowDomain<S>;
  result(): R;
}

type AnyRun = FlowRun<Map<string, unknown>, unknown>;

/** A flow analysis registered for the shared walk (see defineFlowAnalysis). */
export interface FlowAnalysis<R> {
  readonly name: string;
  /** Program types whose code the analysis is for; all when absent (others are left out of the walk unless asked). */
  readonly programTypes?: readonly string[];
  start(file: ProbeFile, fn: ProbeFunction): FlowRun<Map<string, unknown>, R>;
}

type Outcome = { value: unknown } | { error: unknown };

const registered: FlowAnalysis<unknown>[] = [];
const outcomes = new WeakMap<ProbeFunction, Map<FlowAnalysis<unknown>, Outcome>>();

/**
 * Registers an analysis (call once, at module load). The first analysis asked about a function walks it
 * with every registered analysis that applies to it, so the others' results are ready when asked.
 */
export function defineFlowAnalysis<S extends Map<string, unknown>, R>(
  name: string,
  start: (file: ProbeFile, fn: ProbeFunction) => FlowRun<S, R>,
  options: { programTypes?: readonly string[] } = {},
): FlowAnalysis<R> {
  const analysis: FlowAnalysis<R> = {
    name,
    ...(options.programTypes ? { programTypes: options.programTypes } : {}),
    start: start as unknown as FlowAnalysis<R>['start'],
  };
  registered.push(analysis);
  return analysis;
}

/** The analysis's result on this function (this version); an analysis that threw rethrows its error here. */
export function flowResult<R>(file: ProbeFile, fn: ProbeFunction, analysis: FlowAnalysis<R>): R {
  let results = outcomes.get(fn);
  if (!results) outcomes.set(fn, (results = new Map()));
  if (!results.has(analysis)) walkTogether(file, fn, analysis, results);
  const outcome = results.get(analysis) as Outcome;
  if ('error' in outcome) throw outcome.error;
  return outcome.value as R;
}

function applies(analysis: FlowAnalysis<unknown>, file: ProbeFile, fn: ProbeFunction): boolean {
  const types = analysis.programTypes;
  return !types || file.programTypesOf(fn).some((type) => types.includes(type));
}

interface Member {
  analysis: FlowAnalysis<unknown>;
  run: AnyRun | null;
  error?: unknown;
}

function walkTogether(file: ProbeFile, fn: ProbeFunction, asked: FlowAnalysis<unknown>, results: Map<FlowAnalysis<unknown>, Outcome>): void {
  const members: Member[] = [];
  for (const analysis of registered) {
    if (results.has(analysis) || (analysis !== asked && !applies(analysis, file, fn))) continue;
    try {
      members.push({ analysis, run: analysis.start(file, fn) });
    } catch (error) {
      members.push({ analysis, run: null, error });
    }
  }
  walkFunctionBody(fn.body, new ProductDomain(members));
  for (const member of members) {
    if (!member.run) {
      results.set(member.analysis, { error: member.error });
      continue;
    }
    try {
      results.set(member.analysis, { value: member.run.result() });
    } catch (error) {
      results.set(member.analysis, { error });
    }
  }
}

/** A state of the product: each member's own state by member index. */
type ProductState = Map<string, unknown>;
type MemberState = Map<string, unknown>;

/**
 * The members' domains side by side. A member that throws is dropped from the rest of the walk and
 * reports its error when its result is asked for, so one analysis failing leaves the others' results intact.
 */
class ProductDomain implements FlowDomain<ProductState> {
  constructor(private readonly members: Member[]) {}

  private live(action: (domain: FlowDomain<MemberState>, key: string) => void): void {
    this.members.forEach((member, index) => {
      const domain = member.run?.domain;
      if (!domain) return;
      try {
        action(domain, String(index));
      } catch (error) {
        member.error = error;
        member.run = null;
      }
    });
  }

  private map(states: ProductState[], combine: (domain: FlowDomain<MemberState>, parts: MemberState[]) => MemberState): ProductState {
    const next: ProductState = new Map();
    this.live((domain, key) => next.set(key, combine(domain, states.map((state) => state.get(key) as MemberState))));
    return next;
  }

  initial(): ProductState {
    return this.map([], (domain) => domain.initial());
  }

  clone(state: ProductState): ProductState {
    return this.map([state], (domain, [own]) => domain.clone(own));
  }

  join(a: ProductState, b: ProductState): ProductState {
    return this.map([a, b], (domain, [left, right]) => domain.join(left, right));
  }

  equals(a: ProductState, b: ProductState): boolean {
    let same = true;
    this.live((domain, key) => {
      if (same && !domain.equals(a.get(key) as MemberState, b.get(key) as MemberState)) same = false;
    });
    return same;
  }

  assign(target: Node, value: Node | null, state: ProductState, operator: string, declaration: Node | null): void {
    this.live((domain, key) => domain.assign?.(target, value, state.get(key) as MemberState, operator, declaration));
  }

  visit(node: Node, state: ProductState): void {
    this.live((domain, key) => domain.visit?.(node, state.get(key) as MemberState));
  }

  assume(condition: Node, truth: boolean, state: ProductState): void {
    this.live((domain, key) => domain.assume?.(condition, truth, state.get(key) as MemberState));
  }

  exit(node: Node, state: ProductState): void {
    this.live((domain, key) => domain.exit?.(node, state.get(key) as MemberState));
  }

  loopEntry(loop: Node, state: ProductState): void {
    this.live((domain, key) => domain.loopEntry?.(loop, state.get(key) as MemberState));
  }
}
