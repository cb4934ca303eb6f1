// A small time-series line chart on canvas (several series, theme colours, y axis from 0 to the maximum),
// redrawn whole on each update; used by the program view for events/s and CPU % over time.

export interface Series {
  label: string;
  points: { t: number; v: number }[];
}

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];

export function seriesColor(index: number): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(PALETTE[index % PALETTE.length]).trim();
  return value || FALLBACK[index % FALLBACK.length];
}

export function drawLineChart(canvas: HTMLCanvasElement, series: Series[], formatY: (v: number) => string): void {
  const width = canvas.clientWidth || 600;
  if (canvas.width !== width) canvas.width = width;
  const height = canvas.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const text = getComputedStyle(document.documentElement).getPropertyValue('--vscode-descriptionForeground').trim() || '#888';
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px sans-serif';
  const all = series.flatMap((s) => s.points);
  if (all.length < 2) {
    ctx.fillStyle = text;
    ctx.fillText('waiting for a second sample…', 8, 16);
    return;
  }
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const vMax = Math.max(...all.map((p) => p.v)) || 1;
  const left = 70;
  const pad = 8;
  const x = (t: number) => left + ((t - t0) / Math.max(1, t1 - t0)) * (width - left - pad);
  const y = (v: number) => height - pad - (v / vMax) * (height - 2 * pad);
  ctx.fillStyle = text;
  ctx.fillText(formatY(vMax), 4, pad + 8);
  ctx.fillText(formatY(0), 4, height - pad);
  ctx.strokeStyle = text;
  ctx.globalAlpha = 0.3;
  ctx.beginPath();
  ctx.moveTo(left, pad);
  ctx.lineTo(left, height - pad);
  ctx.lineTo(width - pad, height - pad);
  ctx.stroke();
  ctx.globalAlpha = 1;
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    ctx.strokeStyle = seriesColor(i);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    s.points.forEach((p, k) => (k === 0 ? ctx.moveTo(x(p.t), y(p.v)) : ctx.lineTo(x(p.t), y(p.v))));
    ctx.stroke();
  });
}
