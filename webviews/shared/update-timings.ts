// Records how long each update took in the webview (script time, performance.now), shown in the status
// line and exposed on window.ebpfStudioTimings so the webview benchmark can read it in Chromium.
declare global {
  interface Window {
    ebpfStudioTimings?: number[];
  }
}

const KEEP = 1000;

/** Runs one update and returns its duration in ms. */
export function timeUpdate(update: () => void): number {
  const started = performance.now();
  update();
  const ms = performance.now() - started;
  const list = (window.ebpfStudioTimings ??= []);
  list.push(ms);
  if (list.length > KEEP) list.shift();
  return ms;
}
