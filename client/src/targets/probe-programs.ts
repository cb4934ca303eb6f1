// Finds the programs of a probe's source text for the "▶ Attach" code lenses: each SEC("...") followed by a
// function definition (maps, licence and other data sections skipped), with the line of its SEC. Pure text.
export interface ProbeProgram {
  name: string;
  section: string;
  /** 0-based line of the SEC(...) annotation. */
  line: number;
}

const DATA_SECTIONS = /^(\.maps|maps|license|version|\.data|\.rodata|\.bss|\.kconfig|\.ksyms)/;

/** libbpf's bpf_tracing.h wrappers: the program's name is their first argument. */
const PROG_MACROS = /^BPF_(PROG2?|KPROBE|KRETPROBE|KSYSCALL|KPROBE_SYSCALL|UPROBE|URETPROBE|USDT)$/;

export function findProbePrograms(text: string): ProbeProgram[] {
  const programs: ProbeProgram[] = [];
  const sec = /\bSEC\(\s*"([^"]*)"\s*\)/g;
  for (let m = sec.exec(text); m; m = sec.exec(text)) {
    const section = m[1];
    if (DATA_SECTIONS.test(section)) continue;
    const after = text.slice(sec.lastIndex, sec.lastIndex + 400);
    const fn = /^[\s\w*]*?\b([A-Za-z_]\w*)\s*\(\s*([A-Za-z_]\w*)?/.exec(after);
    if (!fn || /[;={]/.test(after.slice(0, fn.index + fn[0].length - (fn[2]?.length ?? 0)))) continue;
    const name = PROG_MACROS.test(fn[1]) && fn[2] ? fn[2] : fn[1];
    const line = text.slice(0, m.index).split('\n').length - 1;
    programs.push({ name, section, line });
  }
  return programs;
}
