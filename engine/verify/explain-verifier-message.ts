// Plain-language explanations of the verifier messages users hit most, and of load refusals that come
// without a log (EPERM under lockdown, kprobes missing). Talks to nothing; keyed by regular expressions.

export interface VerifierExplanation {
  /** Stable id of the message family, used as the diagnostic code. */
  family: string;
  explanation: string;
}

interface Family extends VerifierExplanation {
  pattern: RegExp;
}

const FAMILIES: Family[] = [
  {
    family: 'null-map-value',
    pattern: /invalid mem access '\w*_or_null'|on \w*_or_null prohibited|R\d+ type=\w*_or_null expected/,
    explanation:
      'The pointer may be NULL here: bpf_map_lookup_elem() (and every helper whose result the kernel marks "_or_null") returns NULL when there is no entry. Check it before use, e.g. `if (!value) return 0;`.',
  },
  {
    family: 'uninitialized-stack',
    pattern: /invalid (?:indirect )?read from stack|!read_ok|invalid indirect access to stack|uninit stack/,
    explanation:
      'The program reads a stack variable (or a register) that is not written on every path to this point. Initialise it where it is declared, e.g. `__u64 value = 0;` or `struct event e = {};`, before passing it to a helper or a map.',
  },
  {
    family: 'unbounded-access',
    pattern: /unbounded memory access|max value is outside of the allowed memory range|min value is negative|invalid access to map value|variable-offset|value is outside of the allowed memory range/,
    explanation:
      'An index or offset could be out of range as far as the verifier can tell. Bound it with a check the compiler keeps right before the access, e.g. `if (idx >= MAX_SLOTS) idx = MAX_SLOTS - 1;` or `if (idx < ARRAY_SIZE(v->slot)) v->slot[idx]++;`, using an unsigned variable.',
  },
  {
    family: 'scalar-deref',
    pattern: /invalid mem access 'scalar'|invalid mem access 'inv'/,
    explanation:
      'The program dereferences a value the verifier only knows as a number (a scalar), typically a kernel pointer read out of a struct or a context field. Read kernel memory with bpf_probe_read_kernel() or BPF_CORE_READ(), or use a BTF-typed program (tp_btf/fentry) where such pointers are trusted.',
  },
  {
    family: 'core-relocation',
    pattern: /CO-RE relocation/,
    explanation:
      'libbpf could not find this field or type in the target kernel\'s BTF, so it poisoned the instruction that uses it. The kernel you verify on has a different layout: guard the access with bpf_core_field_exists() / bpf_core_type_exists(), or read the field under its name on this kernel.',
  },
  {
    family: 'missing-map',
    pattern: /invalid BPF map reference|map '[^']*'.*(?:not loaded|failed to create)/,
    explanation:
      'A map this program uses could not be created on the target (unsupported type or flags, max_entries 0, or a value too large), so libbpf left the instruction that references it invalid. Check the map definition against what this kernel supports.',
  },
  {
    family: 'unknown-section',
    pattern: /missing BPF prog type|unrecognized ELF section name|failed to guess program type/,
    explanation:
      'libbpf does not know this SEC() name, so it cannot tell the kernel which program type this is. Use a section name libbpf knows, e.g. "tracepoint/<category>/<event>", "tp_btf/<event>", "raw_tp/<event>", "kprobe/<function>", "uprobe/<binary>:<symbol>", "xdp", "tc".',
  },
  {
    family: 'packet-bounds',
    pattern: /invalid access to packet|offset is outside of the packet/,
    explanation:
      'Packet data is read without proving it lies before data_end. Compare first, e.g. `if ((void *)(eth + 1) > data_end) return XDP_PASS;`, then read; the check must cover every byte read.',
  },
  {
    family: 'unreleased-reference',
    pattern: /Unreleased reference|would lead to reference leak/,
    explanation:
      'A reference the program acquired (a ring buffer reservation, a socket, a task or a kptr) is not released on every path to exit. On each path call its release: bpf_ringbuf_submit()/bpf_ringbuf_discard(), bpf_sk_release(), bpf_task_release()…',
  },
  {
    family: 'gpl-only',
    pattern: /GPL-restricted|GPL-compatible|gpl_only/i,
    explanation:
      'This helper is GPL-only, and the program\'s licence is not GPL-compatible. Declare a GPL-compatible licence: `char LICENSE[] SEC("license") = "GPL";` (or "Dual BSD/GPL").',
  },
  {
    family: 'helper-not-allowed',
    pattern: /cannot use helper|unknown func|helper call is not allowed|program of this type cannot use|calling kernel function .* is not allowed/,
    explanation:
      'This program type may not call this helper on this kernel (each program type has its own helper set, and newer helpers need newer kernels). Use a helper the program type offers, or a program type that offers this one (see `bpftool feature probe`).',
  },
  {
    family: 'stack-too-big',
    pattern: /combined stack size|stack limit|stack depth \d+ exceeds|invalid write to stack R10 off=-5\d\d|invalid (?:write|read) to stack R10 off=-\d{3,}/,
    explanation:
      'BPF programs have 512 bytes of stack (all subprogram frames together). Move large buffers or structs into a per-CPU array map (BPF_MAP_TYPE_PERCPU_ARRAY with one entry) and work on the value bpf_map_lookup_elem() returns.',
  },
  {
    family: 'too-complex',
    pattern: /jumps is too complex|BPF program is too large|too many states|infinite loop detected|back-edge from insn|loop is not bounded|processed \d+ insns.*limit/,
    explanation:
      'The verifier gave up: it walks every path and every loop iteration, and this program needs more than its limit (1,000,000 instructions processed, 8,192 pending branches). Bound loops with small constants, use bpf_loop() or `for` loops over a bounded counter, and avoid branches whose exact values keep paths distinct (the verifier cannot merge them).',
  },
  {
    family: 'bad-ctx-access',
    pattern: /invalid bpf_context access|invalid access to context|dereference of modified ctx ptr/,
    explanation:
      'This access to the context (the program\'s `ctx` argument) is not allowed: the field, its size or a write is not permitted for this program type, or the pointer was moved. Read fields through the right struct for the section (e.g. struct trace_event_raw_sys_enter for tracepoints, BPF_CORE_READ for kernel structs).',
  },
  {
    family: 'invalid-return',
    pattern: /At program exit the register R0|R0 !read_ok|should have been in/,
    explanation:
      'This program type only accepts certain return values (e.g. 0 or 1 for cgroup programs, XDP_* actions for XDP). Return one of the allowed values on every path.',
  },
];

/** The family and explanation of a verifier message, when it is one the extension knows. */
export function explainVerifierMessage(message: string): VerifierExplanation | undefined {
  const family = FAMILIES.find((f) => f.pattern.test(message));
  return family ? { family: family.family, explanation: family.explanation } : undefined;
}

const LOCKDOWN_SECTIONS = /^(fentry|fexit|fmod_ret|lsm|lsm\.s|iter|freplace|fentry\.s|fexit\.s)\b/;
const KPROBE_SECTIONS = /^(kprobe|kretprobe|ksyscall|kretsyscall|kprobe\.multi|kretprobe\.multi)\b/;

export interface LoadRefusal {
  errno?: number;
  section: string;
  log: string;
  /** The target's lockdown mode, when known (hello.lockdown). */
  lockdown?: string;
}

/** Explains a refusal that has no verifier message (empty log), e.g. EPERM before verification. */
export function explainLoadRefusal(refusal: LoadRefusal): VerifierExplanation | undefined {
  if (refusal.errno === 1 && LOCKDOWN_SECTIONS.test(refusal.section)) {
    return {
      family: 'lockdown',
      explanation:
        `The kernel refused this ${refusal.section.split('/')[0]} program with EPERM before verifying it. ` +
        `Kernel lockdown${refusal.lockdown ? ` (mode "${refusal.lockdown}")` : ''} forbids programs that attach through BTF to kernel functions (fentry/fexit/fmod_ret/LSM) on this kernel, even for root. ` +
        'Use a tracepoint, tp_btf or raw_tp program instead, or a target without lockdown (boot with lockdown=none if you control the machine).',
    };
  }
  if (refusal.errno === 1) {
    return {
      family: 'permission',
      explanation:
        'The kernel refused to load the program with EPERM: the agent needs root or CAP_BPF + CAP_PERFMON (and CAP_NET_ADMIN for network programs), and kernel lockdown or a security module may forbid BPF altogether.',
    };
  }
  return undefined;
}

/** Explains why a kprobe cannot attach on a target without kprobes (the agent's attach errors use it too). */
export function explainKprobesUnavailable(section: string): VerifierExplanation | undefined {
  if (!KPROBE_SECTIONS.test(section)) return undefined;
  return {
    family: 'kprobes-unavailable',
    explanation:
      'kprobes are not available on this kernel (it is built without CONFIG_KPROBES, so tracefs has no kprobe_events): the program verifies and loads but cannot attach. Use a tracepoint, tp_btf or raw_tp program for the same event, or a kernel with kprobes.',
  };
}
