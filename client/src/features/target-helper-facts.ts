// Sends the language server the current target's live feature probe (which helpers each program type may call there)
// once that target is connected, and null when it is not, so the server falls back to its snapshot. Talks to the agent
// of the current target and to the language server.
import type { TargetState } from '../../../engine/targets/target-sessions';
import { TargetHelperFactsNotification, type TargetHelperFacts } from '../../../protocol/lsp-requests';
import type { Studio } from '../studio';

export function activate(studio: Studio): void {
  let sent = 0;
  /** Probes the current target when it is connected (never connects by itself) and tells the server. */
  const update = async (): Promise<void> => {
    const target = studio.currentTarget();
    const turn = ++sent;
    let facts: TargetHelperFacts | null = null;
    const status = studio.targets.state(target)?.status;
    if (status === 'connected' || status === 'attaching' || status === 'attached') {
      try {
        const probe = await (await studio.connect(target)).request('featureProbe', {}, { timeoutMs: 120_000 });
        facts = { target, kernelRelease: probe.kernelRelease, programTypes: probe.programTypes };
      } catch (error) {
        studio.log.warn(`feature probe of ${target} failed, helper facts come from the snapshot: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const client = await studio.languageClient;
    if (turn !== sent || !client.isRunning()) return;
    await client.sendNotification(TargetHelperFactsNotification, facts);
    studio.log.info(facts ? `helper facts: live feature probe of ${target} (kernel ${facts.kernelRelease})` : 'helper facts: the snapshot (the current target is not connected)');
  };
  const run = (): void => void update().catch((error: unknown) => studio.log.warn(`sending helper facts failed: ${error instanceof Error ? error.message : String(error)}`));
  const onTargetState = (state: TargetState): void => {
    if (state.name === studio.currentTarget() && ['connected', 'disconnected', 'failed'].includes(state.status)) run();
  };
  studio.targets.on('change', onTargetState);
  studio.context.subscriptions.push(studio.onDidChangeTarget(run), { dispose: () => studio.targets.off('change', onTargetState) });
  void studio.languageClient.then((client) => studio.context.subscriptions.push(client.onDidChangeState(() => client.isRunning() && run())));
}
