// What each program of a probe is doing in the sessions attached from its file: a lens on its SEC line saying
// attached (and how), not loaded (a variant left out, or refused by the kernel, with why) or not attached (why). Pure.
import type { SessionProgram } from '../../../protocol/agent-rpc';
import type { ProbeProgram } from '../../../protocol/lsp-requests';

export interface AttachedSession {
  target: string;
  session: string;
  programs: readonly SessionProgram[];
}

export interface ProgramStatusLens {
  /** 0-based line of the program's SEC(...) annotation. */
  line: number;
  title: string;
  /** The whole reason (the title shortens it). */
  tooltip: string;
  target: string;
}

const TITLE_REASON = 90;

function shortened(text: string): string {
  return text.length > TITLE_REASON ? `${text.slice(0, TITLE_REASON - 1)}…` : text;
}

/** One lens per program and session of this file, in the order of the programs. */
export function planProgramStatusLenses(programs: readonly ProbeProgram[], sessions: readonly AttachedSession[]): ProgramStatusLens[] {
  return programs.flatMap((program) =>
    sessions.flatMap((s): ProgramStatusLens[] => {
      const p = s.programs.find((x) => x.name === program.name);
      if (!p) return [];
      const where = `on ${s.target}`;
      if (p.notLoaded) return [{ line: program.line, title: `$(circle-slash) not loaded ${where}: ${shortened(p.notLoaded)}`, tooltip: p.notLoaded, target: s.target }];
      if (p.attached) {
        const how = p.attachNote ? ` · ${shortened(p.attachNote)}` : '';
        return [{ line: program.line, title: `$(debug-start) attached ${where}, id ${p.id}${how}`, tooltip: `${p.name} (${p.section}), session ${s.session}${p.attachNote ? `: ${p.attachNote}` : ''}`, target: s.target }];
      }
      const why = p.attachError ?? 'not attached';
      return [{ line: program.line, title: `$(error) not attached ${where}: ${shortened(why)}`, tooltip: why, target: s.target }];
    }),
  );
}
