/**
 * Line charts as RGB pixels: the loss curves a training run writes beside its log (`loss.png`).
 *
 * Does: draw one or more series over a shared step axis into an RgbImage, with axes, grid lines and
 *   tick labels drawn in a 3×5 pixel font (digits and the few symbols numbers need), a linear or a
 *   log10 value axis, and a moving average so a noisy per-step loss reads as a curve. Encoding the
 *   pixels as PNG is the image module's job (engine/io), so this file stays pure.
 * Does not: text other than numbers (series names belong in the report beside the picture, with
 *   their colours), anti-aliasing, or interactive anything.
 */
import type { RgbImage } from '../model/preprocess.ts';

export interface Series {
  /** One value per step (NaN and non-positive values on a log axis are skipped). */
  values: readonly number[];
  /** RGB, 0-255. */
  color: readonly [number, number, number];
  /** Draw the moving average over this many steps instead of the raw values (default 1: raw). */
  smooth?: number;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  /** Value axis on a log10 scale (default false). */
  log?: boolean;
  /** The step of the first value (default 1). */
  firstStep?: number;
}

/** Distinct colours for series, in order. */
export const PALETTE: readonly (readonly [number, number, number])[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75],
];

// 3×5 glyphs, each row 3 bits (MSB = left column).
const GLYPHS: Record<string, readonly number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 2, 2], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], '-': [0, 0, 7, 0, 0], '+': [0, 2, 7, 2, 0], e: [0, 7, 7, 4, 7], k: [4, 5, 6, 5, 5],
};

/** Draw `series` into a new image (white background). */
export function lineChart(series: readonly Series[], opts: ChartOptions = {}): RgbImage {
  const width = opts.width ?? 640;
  const height = opts.height ?? 320;
  const img: RgbImage = { width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(255) };
  const left = 44, right = 12, top = 10, bottom = 22; // the plot area's margins, in pixels
  const plotW = width - left - right, plotH = height - top - bottom;
  const log = opts.log ?? false;
  const first = opts.firstStep ?? 1;

  const lines = series.map((s) => ({ ...s, values: movingAverage(s.values, s.smooth ?? 1) }));
  const shown = (v: number): boolean => Number.isFinite(v) && (!log || v > 0);
  const all = lines.flatMap((s) => s.values.filter(shown)).map((v) => (log ? Math.log10(v) : v));
  const steps = Math.max(1, ...lines.map((s) => s.values.length));
  let lo = all.length ? Math.min(...all) : 0, hi = all.length ? Math.max(...all) : 1;
  if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
  const x = (i: number): number => left + (steps === 1 ? plotW / 2 : (i / (steps - 1)) * plotW);
  const y = (v: number): number => top + plotH - (((log ? Math.log10(v) : v) - lo) / (hi - lo)) * plotH;

  // Grid and value ticks: five levels over the range (decades' values on a log axis).
  for (let k = 0; k <= 4; k++) {
    const level = lo + ((hi - lo) * k) / 4;
    const py = Math.round(top + plotH - (plotH * k) / 4);
    hline(img, left, left + plotW, py, [225, 225, 225]);
    text(img, formatTick(log ? 10 ** level : level), 2, py - 2);
  }
  // Step ticks at the ends and the middle.
  for (const frac of [0, 0.5, 1]) {
    const i = Math.round(frac * (steps - 1));
    text(img, formatTick(first + i), Math.round(x(i)) - 4, top + plotH + 6);
  }
  hline(img, left, left + plotW, top + plotH, [0, 0, 0]);
  vline(img, left, top, top + plotH, [0, 0, 0]);

  for (const s of lines) {
    let prev: [number, number] | null = null;
    s.values.forEach((v, i) => {
      if (!shown(v)) { prev = null; return; }
      const p: [number, number] = [x(i), y(v)];
      if (prev) segment(img, prev, p, s.color);
      else dot(img, p, s.color);
      prev = p;
    });
  }
  return img;
}

/** The mean of each window of `n` values ending at each index (NaNs skipped). */
export function movingAverage(values: readonly number[], n: number): number[] {
  if (n <= 1) return [...values];
  return values.map((_, i) => {
    const window = values.slice(Math.max(0, i - n + 1), i + 1).filter(Number.isFinite);
    return window.length ? window.reduce((a, b) => a + b, 0) / window.length : NaN;
  });
}

/** A short label for a tick: 3 significant digits, exponent form for very small or large values. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 && Number.isInteger(v) && a < 1e6) return `${+(v / 1000).toPrecision(3)}k`;
  if (a < 1e-2 || a >= 1e4) return v.toExponential(1).replace('e+', 'e');
  return String(+v.toPrecision(3));
}

function setPixel(img: RgbImage, px: number, py: number, c: readonly number[]): void {
  const xi = Math.round(px), yi = Math.round(py);
  if (xi < 0 || yi < 0 || xi >= img.width || yi >= img.height) return;
  const o = (yi * img.width + xi) * 3;
  img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2];
}

function hline(img: RgbImage, x0: number, x1: number, py: number, c: readonly number[]): void {
  for (let px = x0; px <= x1; px++) setPixel(img, px, py, c);
}

function vline(img: RgbImage, px: number, y0: number, y1: number, c: readonly number[]): void {
  for (let py = y0; py <= y1; py++) setPixel(img, px, py, c);
}

/** A 2-pixel-thick straight segment, stepped along its longer axis. */
function segment(img: RgbImage, a: readonly [number, number], b: readonly [number, number], c: readonly number[]): void {
  const n = Math.max(1, Math.ceil(Math.max(Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]))));
  for (let k = 0; k <= n; k++) {
    const px = a[0] + ((b[0] - a[0]) * k) / n, py = a[1] + ((b[1] - a[1]) * k) / n;
    setPixel(img, px, py, c);
    setPixel(img, px, py + 1, c);
  }
}

function dot(img: RgbImage, p: readonly [number, number], c: readonly number[]): void {
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) setPixel(img, p[0] + dx, p[1] + dy, c);
}

/** Draw `s` in the 3×5 font with its top-left corner at (px, py); unknown characters are blanks. */
function text(img: RgbImage, s: string, px: number, py: number): void {
  [...s].forEach((ch, k) => {
    const rows = GLYPHS[ch];
    if (!rows) return;
    rows.forEach((bits, r) => {
      for (let col = 0; col < 3; col++) if (bits & (4 >> col)) setPixel(img, px + k * 4 + col, py + r, [60, 60, 60]);
    });
  });
}
