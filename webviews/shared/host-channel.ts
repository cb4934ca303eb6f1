// The webview's side of the extension link: validates every message from the extension (others are
// ignored), says `ready` once listening, and keeps the view's target in setState so the panel restores.
import { parseHostMessage, type HostToWebview, type LiveViewTarget, type WebviewToHost } from '../../protocol/webview-messages';

interface VsCodeApi {
  postMessage(message: unknown): void;
  setState(state: unknown): void;
  getState(): unknown;
}
declare function acquireVsCodeApi(): VsCodeApi;

export interface HostChannel {
  send(message: WebviewToHost): void;
  /** Remembers what the panel shows, for the serializer after a reload. */
  saveTarget(target: LiveViewTarget): void;
}

/** Starts listening, then sends `ready`; `onMessage` only ever sees validated messages. */
export function connectToHost(onMessage: (message: HostToWebview) => void): HostChannel {
  const vscode = acquireVsCodeApi();
  window.addEventListener('message', (event: MessageEvent) => {
    const message = parseHostMessage(event.data);
    if (!message) {
      console.warn('eBPF Studio: ignored an invalid message', event.data && (event.data as { type?: unknown }).type);
      return;
    }
    onMessage(message);
  });
  const channel: HostChannel = {
    send: (message) => vscode.postMessage(message),
    saveTarget: (target) => vscode.setState({ target }),
  };
  channel.send({ type: 'ready' });
  return channel;
}
