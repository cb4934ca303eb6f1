// The toolbar every live view shares: pause/resume, refresh interval, a status line and a banner for
// "map gone" / errors; tells the extension about pause and interval changes. Uses @vscode-elements.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { StatusMessage } from '../../protocol/webview-messages';
import { component, el, setText } from './dom-builder';
import type { HostChannel } from './host-channel';

const INTERVALS = [100, 250, 500, 1000, 2000, 5000, 10000];

export class ViewToolbar {
  readonly root: HTMLElement;
  readonly extra: HTMLElement;
  readonly status: HTMLElement;
  readonly banner: HTMLElement;
  private readonly pauseButton: HTMLElement;
  private readonly intervalSelect: HTMLElement & { value: string };
  private pausedState = false;

  constructor(private readonly channel: HostChannel, options: { interval?: boolean } = {}) {
    this.pauseButton = component('vscode-button', { icon: 'debug-pause', secondary: '', 'data-action': 'pause' }, ['Pause']);
    this.pauseButton.addEventListener('click', () => this.setPaused(!this.pausedState, true));
    this.intervalSelect = component('vscode-single-select', { 'aria-label': 'Refresh interval' },
      INTERVALS.map((ms) => component('vscode-option', { value: String(ms) }, [ms < 1000 ? `${ms} ms` : `${ms / 1000} s`]))) as HTMLElement & { value: string };
    this.intervalSelect.addEventListener('change', () => {
      const ms = Number(this.intervalSelect.value);
      if (Number.isFinite(ms)) this.channel.send({ type: 'setRefreshInterval', ms });
    });
    this.extra = el('div', 'toolbar-extra');
    this.extra.style.display = 'contents';
    this.root = el('div', 'toolbar', [
      this.pauseButton,
      options.interval === false ? null : el('label', '', ['Refresh']),
      options.interval === false ? null : this.intervalSelect,
      this.extra,
    ]);
    this.status = el('div', 'status', [], { role: 'status' });
    this.banner = el('div', 'banner', [], { role: 'alert' });
    this.banner.hidden = true;
  }

  get paused(): boolean {
    return this.pausedState;
  }

  setInterval(ms: number): void {
    const nearest = INTERVALS.reduce((a, b) => (Math.abs(b - ms) < Math.abs(a - ms) ? b : a));
    this.intervalSelect.value = String(nearest);
  }

  setPaused(paused: boolean, tellHost = false): void {
    this.pausedState = paused;
    setText(this.pauseButton, paused ? 'Resume' : 'Pause');
    this.pauseButton.setAttribute('icon', paused ? 'debug-continue' : 'debug-pause');
    if (tellHost) this.channel.send({ type: 'setPaused', paused });
  }

  /** Shows the feed state honestly: map gone and errors stay visible until data flows again. */
  showStatus(message: StatusMessage): void {
    if (message.state === 'paused' || message.state === 'live') {
      this.setPaused(message.state === 'paused');
      this.banner.hidden = true;
      return;
    }
    this.banner.className = `banner${message.state === 'error' || message.state === 'gone' ? ' error' : ''}`;
    setText(this.banner, message.message ?? (message.state === 'gone' ? 'Map gone.' : 'Error.'));
    this.banner.hidden = false;
  }

  hideBanner(): void {
    if (!this.banner.hidden) this.banner.hidden = true;
  }
}
