// The editor's one TargetSessions (engine/targets/target-sessions): every target's status and sessions, shared by
// the targets tree, the status item and the attach/detach commands. Connects through the Studio hub.
import type { Studio } from '../studio';
import { TargetSessions } from '../../../engine/targets/target-sessions';

const hubs = new WeakMap<Studio, TargetSessions>();

export function targetSessions(studio: Studio): TargetSessions {
  let sessions = hubs.get(studio);
  if (!sessions) {
    const created = new TargetSessions((name) => studio.connect(name));
    studio.context.subscriptions.push({ dispose: () => void created.disconnectAll() });
    hubs.set(studio, created);
    sessions = created;
  }
  return sessions;
}

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
