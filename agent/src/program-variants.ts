// Picks one program among variants of the same handler, as a libbpf tool's user space does with set_autoload():
// tp_btf vs raw_tp vs tracepoint, fentry vs kprobe, fexit vs kretprobe, SEC("?...") alternatives. Pure (kernel facts in).

export interface ProgramEntry {
  name: string;
  section: string;
  /** libbpf's default: false for SEC("?...") programs. */
  autoload: boolean;
}

export interface KernelFacts {
  /** false when the kernel has no kprobes (CONFIG_KPROBES off). */
  kprobes?: boolean;
  /** Lockdown mode; anything but "none" refuses fentry/fexit/LSM programs. */
  lockdown?: string;
}

export interface VariantPlan {
  /** Programs to load, in object order. */
  chosen: string[];
  /** Programs left out, with why (shown on their line). */
  skipped: Map<string, string>;
  /** For each chosen program with variants: the next-best ones, tried in order if the kernel refuses it. */
  fallbacks: Map<string, string[]>;
}

interface Variant extends ProgramEntry {
  event: string;
  kind: string;
  rank: number;
}

/** The event a section attaches to and how good that way is (lower rank is better), or undefined for a one-of-a-kind section. */
function classify(section: string): { event: string; kind: string; rank: number } | undefined {
  const s = section.replace(/^\?/, '');
  const [kind, ...rest] = s.split('/');
  const target = rest.join('/');
  if (!target) return undefined;
  switch (kind) {
    case 'tp_btf': return { event: `tp:${target}`, kind, rank: 0 };
    case 'raw_tp': case 'raw_tracepoint': case 'raw_tp.w': case 'raw_tracepoint.w': return { event: `tp:${target}`, kind: 'raw_tp', rank: 1 };
    case 'tp': case 'tracepoint': return { event: `tp:${rest.at(-1)}`, kind: 'tracepoint', rank: 2 };
    case 'fentry': case 'fentry.s': return { event: `fn:${target}`, kind: 'fentry', rank: 0 };
    case 'kprobe': return { event: `fn:${target}`, kind: 'kprobe', rank: 1 };
    case 'fexit': case 'fexit.s': return { event: `fnret:${target}`, kind: 'fexit', rank: 0 };
    case 'kretprobe': return { event: `fnret:${target}`, kind: 'kretprobe', rank: 1 };
    default: return undefined;
  }
}

function why(best: Variant, kernel: KernelFacts): string {
  if (best.kind === 'tp_btf') return 'tp_btf reads the tracepoint\'s typed arguments through BTF and is the fastest';
  if (best.kind === 'raw_tp') return 'raw_tp is cheaper than a classic tracepoint';
  if (best.kind === 'fentry' || best.kind === 'fexit') return `${best.kind} (BPF trampoline) is cheaper than a kprobe`;
  if (best.kind === 'kprobe' || best.kind === 'kretprobe') return kernel.lockdown && kernel.lockdown !== 'none' ? `kernel lockdown "${kernel.lockdown}" refuses fentry/fexit` : 'it is the one left';
  return 'it is preferred';
}

function usable(v: Variant, kernel: KernelFacts): boolean {
  if ((v.kind === 'kprobe' || v.kind === 'kretprobe') && kernel.kprobes === false) return false;
  if ((v.kind === 'fentry' || v.kind === 'fexit') && kernel.lockdown && kernel.lockdown !== 'none') return false;
  return true;
}

/** Chooses among variants; programs that have none keep libbpf's default (SEC("?...") ones stay off). */
export function planVariants(programs: ProgramEntry[], kernel: KernelFacts): VariantPlan {
  const groups = new Map<string, Variant[]>();
  for (const p of programs) {
    const c = classify(p.section);
    if (!c) continue;
    groups.set(c.event, [...(groups.get(c.event) ?? []), { ...p, ...c }]);
  }
  const skipped = new Map<string, string>();
  const fallbacks = new Map<string, string[]>();
  const decided = new Set<string>();
  const chosen = new Set<string>();
  for (const members of groups.values()) {
    if (new Set(members.map((m) => m.kind)).size < 2) continue;
    // Same kind twice (two handlers of one tracepoint) are not variants of each other: keep the default for those.
    const byKind = new Map<string, Variant>();
    for (const m of members) if (!byKind.has(m.kind) || (m.autoload && !byKind.get(m.kind)?.autoload)) byKind.set(m.kind, m);
    const ranked = [...byKind.values()].sort((a, b) => Number(usable(b, kernel)) - Number(usable(a, kernel)) || a.rank - b.rank);
    const [best, ...rest] = ranked;
    chosen.add(best.name);
    decided.add(best.name);
    fallbacks.set(best.name, rest.map((r) => r.name));
    for (const r of rest) {
      decided.add(r.name);
      skipped.set(r.name, `variant of ${best.name} (${best.section}) for the same event; ${best.kind} was chosen because ${why(best, kernel)}`);
    }
  }
  for (const p of programs) if (!decided.has(p.name) && p.autoload) chosen.add(p.name);
  return { chosen: programs.filter((p) => chosen.has(p.name)).map((p) => p.name), skipped, fallbacks };
}
