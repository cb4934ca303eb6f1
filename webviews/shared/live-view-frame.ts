// The frame every live view shares: the host link, toolbar and title, the dispatch of the host's messages
// (init, the view's data, export requests, status) to the view, and the CSV/JSON export buttons. Talks to the host.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type {
  EventsMessage, HostToWebview, InitMessage, MapDataMessage, ProgramStatsMessage, StatusMessage,
} from '../../protocol/webview-messages';
import { component, el, setText } from './dom-builder';
import { connectToHost, type HostChannel } from './host-channel';
import { timeUpdate } from './update-timings';
import { ViewToolbar } from './view-toolbar';

type LiveDataMessage = MapDataMessage | ProgramStatsMessage | EventsMessage;
type ExportFormat = 'csv' | 'json';

/** What a view adds to the frame: which data it takes and what it does with it. */
export interface LiveViewBehaviour<M extends LiveDataMessage> {
  /** The data message this view shows; the other kinds are ignored. */
  dataType: M['type'];
  takeData(message: M): void;
  exportSnapshot(format: ExportFormat): void;
  /** Called on `init` before the frame shows the title, interval and pause state. */
  takeInit?(message: InitMessage): void;
  /** Called on `status` after the toolbar shows it. */
  afterStatus?(message: StatusMessage): void;
  /** false: the view has no refresh interval (it streams), so the toolbar shows none. */
  interval?: boolean;
}

export class LiveViewFrame<M extends LiveDataMessage> {
  readonly channel: HostChannel;
  readonly toolbar: ViewToolbar;
  readonly title: HTMLElement;

  constructor(private readonly view: LiveViewBehaviour<M>) {
    this.channel = connectToHost((message) => this.dispatch(message));
    this.toolbar = new ViewToolbar(this.channel, { interval: view.interval });
    this.title = el('h3', 'title');
  }

  /** The CSV and JSON buttons, each exporting the view's snapshot. */
  exportButtons(): HTMLElement[] {
    const exportCsv = component('vscode-button', { secondary: '', icon: 'export', 'data-action': 'export-csv' }, ['CSV']);
    const exportJson = component('vscode-button', { secondary: '', icon: 'json', 'data-action': 'export-json' }, ['JSON']);
    exportCsv.addEventListener('click', () => this.view.exportSnapshot('csv'));
    exportJson.addEventListener('click', () => this.view.exportSnapshot('json'));
    return [exportCsv, exportJson];
  }

  private dispatch(message: HostToWebview): void {
    switch (message.type) {
      case 'init':
        this.view.takeInit?.(message);
        this.channel.saveTarget(message.target);
        setText(this.title, message.target.title);
        if (this.view.interval !== false) this.toolbar.setInterval(message.refreshIntervalMs);
        this.toolbar.setPaused(message.paused);
        break;
      case 'exportRequest':
        this.view.exportSnapshot(message.format);
        break;
      case 'status':
        this.toolbar.showStatus(message);
        this.view.afterStatus?.(message);
        break;
      default:
        if (message.type === this.view.dataType) {
          const data = message as M;
          timeUpdate(() => this.view.takeData(data));
        }
        break;
    }
  }
}
