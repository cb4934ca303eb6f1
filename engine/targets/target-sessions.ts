// Several targets at once, each with its own agent connection, status and sessions: attach one probe to many
// hosts concurrently (one failing host does not stop the others), detach, and forget a target when its agent dies.
import { EventEmitter } from 'node:events';
import type { LoadParams, LoadResult, SessionSummary } from '../../protocol/agent-rpc';
import type { AgentClient } from './agent-client';

export type TargetStatus = 'connecting' | 'connected' | 'attaching' | 'attached' | 'failed' | 'disconnected';

export interface TargetState {
  name: string;
  status: TargetStatus;
  /** Why it failed or disconnected, or what it is doing. */
  message?: string;
  sessions: SessionSummary[];
}

export type AttachOutcome = { ok: true; result: LoadResult } | { ok: false; error: string };

/** Opens an agent connection to a target by name (local, SSH…). */
export type TargetConnector = (name: string) => Promise<AgentClient>;

export class TargetSessions extends EventEmitter {
  private readonly targets = new Map<string, TargetState>();
  private readonly clients = new Map<string, Promise<AgentClient>>();

  constructor(private readonly connector: TargetConnector) {
    super();
  }

  states(): TargetState[] {
    return [...this.targets.values()].map((s) => ({ ...s, sessions: [...s.sessions] }));
  }

  state(name: string): TargetState | undefined {
    return this.targets.get(name);
  }

  private update(name: string, change: Partial<TargetState>): void {
    const current = this.targets.get(name) ?? { name, status: 'connecting' as TargetStatus, sessions: [] };
    const next = { ...current, ...change };
    if (change.status && change.status !== 'failed' && change.message === undefined) delete next.message;
    this.targets.set(name, next);
    this.emit('change', next);
  }

  /** Names of the targets with an open (or opening) agent connection. */
  connectedNames(): string[] {
    return [...this.clients.keys()];
  }

  /** The target's agent, connecting on first use; a dead agent is forgotten so the next call starts clean. */
  client(name: string): Promise<AgentClient> {
    const existing = this.clients.get(name);
    if (existing) return existing;
    this.update(name, { status: 'connecting', sessions: [] });
    const pending = this.connector(name);
    this.clients.set(name, pending);
    pending.then(
      (client) => {
        if (this.clients.get(name) !== pending) return;
        this.update(name, { status: 'connected' });
        client.closed.then((reason) => {
          if (this.clients.get(name) !== pending) return;
          this.clients.delete(name);
          this.update(name, { status: 'disconnected', message: `the agent ${reason}; everything it had attached was detached`, sessions: [] });
        });
      },
      (err: Error) => {
        if (this.clients.get(name) === pending) this.clients.delete(name);
        this.update(name, { status: 'failed', message: err.message, sessions: [] });
      },
    );
    return pending;
  }

  /**
   * Loads and attaches on every target concurrently; resolves when all have an outcome. `params` may be built per
   * target from its agent (e.g. compiled against that target's kernel).
   */
  async attach(names: string[], params: LoadParams | ((client: AgentClient, name: string) => Promise<LoadParams>)): Promise<Map<string, AttachOutcome>> {
    const outcomes = await Promise.all(
      names.map(async (name): Promise<[string, AttachOutcome]> => {
        try {
          const client = await this.client(name);
          this.update(name, { status: 'attaching' });
          const load = typeof params === 'function' ? await params(client, name) : params;
          const result = await client.request('load', load);
          const failed = result.programs.filter((p) => !p.attached);
          const sessions = [...(this.targets.get(name)?.sessions ?? []), result];
          this.update(name, failed.length === result.programs.length && !load.noAttach
            ? { status: 'failed', message: failed.map((p) => p.attachError).join('; '), sessions }
            : { status: 'attached', sessions, ...(failed.length ? { message: failed.map((p) => p.attachError).join('; ') } : {}) });
          return [name, { ok: true, result }];
        } catch (err) {
          const message = (err as Error).message;
          this.update(name, { status: 'failed', message });
          return [name, { ok: false, error: message }];
        }
      }),
    );
    return new Map(outcomes);
  }

  /** Detaches one session of a target. */
  async detach(name: string, session: string): Promise<void> {
    const client = await this.clients.get(name);
    if (!client) return;
    await client.request('detach', { session });
    const sessions = (this.targets.get(name)?.sessions ?? []).filter((s) => s.session !== session);
    this.update(name, { status: sessions.length ? 'attached' : 'connected', sessions });
  }

  /** Ends the target's agent: it exits and the kernel detaches everything it held. */
  async disconnect(name: string): Promise<void> {
    const pending = this.clients.get(name);
    this.clients.delete(name);
    if (!pending) return;
    const client = await pending.catch(() => undefined);
    await client?.close();
    this.update(name, { status: 'disconnected', sessions: [] });
  }

  async disconnectAll(): Promise<void> {
    await Promise.allSettled([...this.clients.keys()].map((n) => this.disconnect(n)));
  }
}
