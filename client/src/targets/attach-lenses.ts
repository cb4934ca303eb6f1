// Which attach code lenses a probe shows: "▶ Attach probe" above each program (loads and attaches every program of
// the file as one session), "Attach with parameters…" and, when the file has several programs, "Attach only <program>". Pure, no editor.
import type { ProbeProgram } from '../../../protocol/lsp-requests';

export const ATTACH_PROBE_TITLE = '▶ Attach probe';
export const ATTACH_WITH_PARAMETERS_TITLE = 'Attach with parameters…';

export interface AttachLensPlan {
  /** 0-based line of the program's SEC(...) annotation. */
  line: number;
  title: string;
  tooltip: string;
  /** The programs to load and attach; undefined = all programs of the file (the attachProbe command on the file). */
  programs?: string[];
  /** The command the lens runs: attachProbe, or attachWithParameters (which asks before it loads). */
  command: 'ebpfStudio.attachProbe' | 'ebpfStudio.attachWithParameters';
}

/** The lenses for a probe's programs, in the order they are shown (the whole-probe lens first on each line). */
export function planAttachLenses(programs: readonly ProbeProgram[], fileName: string, targetName: string): AttachLensPlan[] {
  const names = programs.map((p) => p.name);
  const whole =
    programs.length > 1
      ? `Load ${fileName} and attach all ${programs.length} of its programs (${names.join(', ')}) on ${targetName}, as one session`
      : `Load ${fileName} and attach it on ${targetName}`;
  return programs.flatMap((program): AttachLensPlan[] => [
    { line: program.line, title: ATTACH_PROBE_TITLE, tooltip: whole, command: 'ebpfStudio.attachProbe' },
    {
      line: program.line,
      title: ATTACH_WITH_PARAMETERS_TITLE,
      tooltip: `Choose the programs, the const volatile globals, map sizes and XDP mode, then attach on ${targetName}`,
      command: 'ebpfStudio.attachWithParameters',
    },
    ...(programs.length > 1
      ? [{
          line: program.line,
          title: `Attach only ${program.name}`,
          tooltip: `Load and attach only ${program.name} (${program.section}) on ${targetName}; probes that pair programs (enter/exit) record nothing from one alone`,
          programs: [program.name],
          command: 'ebpfStudio.attachProbe' as const,
        }]
      : []),
  ]);
}
