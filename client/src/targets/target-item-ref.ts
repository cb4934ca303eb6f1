// What a command argument (a Targets tree item, or a target name) says about a target, session, program or map,
// for the attach/detach/target commands. Pure.
/** What a command argument says about a target/session/program/map (tree items carry these fields). */
export interface TargetItemRef {
  targetName?: string;
  session?: string;
  program?: string;
  map?: string;
}

export function itemRef(argument: unknown): TargetItemRef {
  if (typeof argument === 'string') return { targetName: argument };
  if (typeof argument !== 'object' || argument === null) return {};
  const a = argument as Record<string, unknown>;
  const text = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
  return { targetName: text('targetName'), session: text('session'), program: text('program'), map: text('map') };
}
