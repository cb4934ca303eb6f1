// Draws the extension icon, media/icon.png (128×128): a hexagon holding a latency histogram.
// Pure Node (zlib for the PNG stream), 4×4 supersampled for smooth edges; run `node scripts/draw-icon.mjs`.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const SAMPLES = 4;

function hexagon(cx, cy, r) {
  return Array.from({ length: 6 }, (_, i) => {
    const a = (Math.PI / 3) * i + Math.PI / 6;
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  });
}

function insidePolygon(x, y, poly) {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const outer = hexagon(64, 64, 62);
const inner = hexagon(64, 64, 55);
const barHeights = [8, 18, 34, 50, 44, 28, 14, 6];
const barWidth = 8;
const barGap = 2;
const barsLeft = 64 - (barHeights.length * (barWidth + barGap) - barGap) / 2;
const baseline = 88;

/** Colour (RGBA 0–255) of one sample point; later layers paint over earlier ones. */
function sample(x, y) {
  if (!insidePolygon(x, y, outer)) return [0, 0, 0, 0];
  if (!insidePolygon(x, y, inner)) return [245, 166, 35, 255];
  const t = y / SIZE;
  let colour = [Math.round(36 - 14 * t), Math.round(42 - 16 * t), Math.round(56 - 20 * t), 255];
  for (let i = 0; i < barHeights.length; i++) {
    const left = barsLeft + i * (barWidth + barGap);
    if (x >= left && x < left + barWidth && y <= baseline && y >= baseline - barHeights[i]) {
      const heat = barHeights[i] / 50;
      colour = [255, Math.round(214 - 80 * heat), Math.round(90 - 60 * heat), 255];
    }
  }
  if (y > baseline + 1 && y < baseline + 4 && x > barsLeft - 4 && x < 128 - barsLeft + 4) colour = [200, 205, 215, 255];
  return colour;
}

const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let py = 0; py < SIZE; py++) {
  raw[py * (SIZE * 4 + 1)] = 0;
  for (let px = 0; px < SIZE; px++) {
    const sum = [0, 0, 0, 0];
    for (let sy = 0; sy < SAMPLES; sy++) {
      for (let sx = 0; sx < SAMPLES; sx++) {
        const c = sample(px + (sx + 0.5) / SAMPLES, py + (sy + 0.5) / SAMPLES);
        for (let k = 0; k < 3; k++) sum[k] += c[k] * c[3];
        sum[3] += c[3];
      }
    }
    const offset = py * (SIZE * 4 + 1) + 1 + px * 4;
    const alpha = sum[3] / (SAMPLES * SAMPLES);
    for (let k = 0; k < 3; k++) raw[offset + k] = sum[3] ? Math.round(sum[k] / sum[3]) : 0;
    raw[offset + 3] = Math.round(alpha);
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header.set([8, 6, 0, 0, 0], 8);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(new URL('../media/icon.png', import.meta.url), png);
console.log(`media/icon.png: ${SIZE}×${SIZE}, ${png.length} bytes`);
