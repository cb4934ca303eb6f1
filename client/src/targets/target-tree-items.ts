// Turns target states (engine/targets/target-sessions) into the rows of the "eBPF Targets" tree: targets → sessions →
// programs and maps → each map's Open actions as rows (always visible), with icons and the contextValues menus match.
import type { TargetState } from '../../../engine/targets/target-sessions';
import type { SessionMap } from '../../../protocol/agent-rpc';

export interface TargetRow {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon id. */
  icon: string;
  /** target.<status>, session, program.<attached|failed>, map.<type>, action */
  contextValue: string;
  /** The command a click runs (action rows), with this row's target/session/map as its argument. */
  command?: { id: string; title: string };
  collapsible: boolean;
  targetName: string;
  session?: string;
  program?: string;
  map?: string;
  children: TargetRow[];
}

const STATUS_ICONS: Record<string, string> = {
  idle: 'circle-outline',
  connecting: 'loading~spin',
  connected: 'vm-connect',
  attaching: 'loading~spin',
  attached: 'pass-filled',
  failed: 'error',
  disconnected: 'debug-disconnect',
};

/** The views a map opens in, as rows under it: events for ring/perf buffers; histogram and table for the rest. */
function mapActions(target: string, session: string, map: SessionMap): TargetRow[] {
  const streamed = map.type === 'ringbuf' || map.type === 'perf_event_array';
  const actions: [string, string, string][] = streamed
    ? [['ebpfStudio.openEvents', 'Open Events', 'list-unordered']]
    : [['ebpfStudio.openHistogram', 'Open Histogram', 'graph'], ['ebpfStudio.openMapView', 'Open Map', 'table']];
  return actions.map(([id, title, icon]) => ({
    id: `action:${target}:${session}:${map.name}:${id}`,
    label: title,
    icon,
    contextValue: 'action',
    command: { id, title },
    collapsible: false,
    targetName: target,
    session,
    map: map.name,
    children: [],
  }));
}

export function targetRows(names: string[], states: TargetState[], current: string): TargetRow[] {
  const byName = new Map(states.map((s) => [s.name, s]));
  const all = [...new Set([...names, ...states.map((s) => s.name)])];
  return all.map((name) => {
    const state = byName.get(name);
    const status = state?.status ?? 'idle';
    const sessions = state?.sessions ?? [];
    const statusText = status === 'idle' ? 'not connected' : status;
    return {
      // a new id once it has sessions: VS Code keeps the collapsed state of a row it saw without children
      id: sessions.length ? `target:${name}:sessions` : `target:${name}`,
      label: name,
      description: `${name === current ? 'current · ' : ''}${statusText}`,
      tooltip: state?.message ? `${name}: ${statusText}\n${state.message}` : `${name}: ${statusText}`,
      icon: STATUS_ICONS[status] ?? 'circle-outline',
      contextValue: `target.${status}`,
      collapsible: sessions.length > 0,
      targetName: name,
      children: sessions.map((s) => ({
        id: `session:${name}:${s.session}`,
        label: s.objectName,
        description: `${s.session} · ${s.programs.filter((p) => p.attached).length}/${s.programs.length} attached${s.streams.length ? ` · streaming ${s.streams.join(', ')}` : ''}`,
        icon: 'symbol-event',
        contextValue: 'session',
        collapsible: true,
        targetName: name,
        session: s.session,
        children: [
          ...s.programs.map((p) => ({
            id: `program:${name}:${s.session}:${p.name}`,
            label: p.name,
            description: `${p.section} · ${p.attached ? `attached, id ${p.id}` : 'not attached'}`,
            tooltip: p.attachError ?? `${p.type} program ${p.name}, kernel id ${p.id}`,
            icon: p.attached ? 'symbol-method' : 'warning',
            contextValue: `program.${p.attached ? 'attached' : 'failed'}`,
            collapsible: false,
            targetName: name,
            session: s.session,
            program: p.name,
            children: [],
          })),
          ...s.maps
            .filter((m) => !m.internal)
            .map((m) => ({
              id: `map:${name}:${s.session}:${m.name}`,
              label: m.name,
              description: `${m.type} · ${m.maxEntries} entr${m.maxEntries === 1 ? 'y' : 'ies'} max`,
              tooltip: `${m.type} map ${m.name}: key ${m.keySize} B, value ${m.valueSize} B, kernel id ${m.id}`,
              icon: m.type === 'ringbuf' || m.type === 'perf_event_array' ? 'list-unordered' : 'table',
              contextValue: `map.${m.type}`,
              collapsible: true,
              targetName: name,
              session: s.session,
              map: m.name,
              children: mapActions(name, s.session, m),
            })),
        ],
      })),
    };
  });
}
