/**
 * Line charts as RGB pixels: the loss curves a training run writes beside its log (`loss.png`).
 *
 * Does: draw one or more series over a shared step axis into an RgbImage: axes, grid lines, tick
 *   labels at "nice" values (1, 2 or 5 times a power of ten on a linear axis; decades, or 1-2-5 /
 *   1..9 within them when the range is narrow, on a log10 axis), an axis title on each axis, a
 *   legend of the series' names in their colours, and an optional title, all in the 5x7 bitmap font
 *   of bitmap-font.ts at `textScale` (2 by default: capitals 14 px tall). A moving average makes a
 *   noisy per-step loss read as a curve. Encoding the pixels as PNG is engine/io's job, so this file
 *   stays pure.
 * Does not: anti-aliasing, or interactive anything (the HTML report draws SVG charts: world/charts.ts).
 */
import type { RgbImage } from '../model/preprocess.ts';
import { CAP_ROWS, drawText, FONT_ROWS, textWidth } from './bitmap-font.ts';

export interface Series {
  /** One value per step (NaN and non-positive values on a log axis are skipped). */
  values: readonly number[];
  /** RGB, 0-255. */
  color: readonly [number, number, number];
  /** Draw the moving average over this many steps instead of the raw values (default 1: raw). */
  smooth?: number;
  /** The series' name in the legend (series without one are left out of it). */
  name?: string;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  /** Value axis on a log10 scale (default false). */
  log?: boolean;
  /** The step of the first value (default 1). */
  firstStep?: number;
  /** The x axis title (default 'step'). */
  xLabel?: string;
  /** The y axis title (default 'loss'; ' (log scale)' is added on a log axis). */
  yLabel?: string;
  /** A line above the plot (e.g. what the curves are smoothed over). */
  title?: string;
  /** Size of a font pixel in image pixels (default 2). */
  textScale?: number;
}

/** Distinct colours for series, in order. */
export const PALETTE: readonly (readonly [number, number, number])[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75],
];

const INK = [40, 40, 40] as const, GRID = [225, 225, 225] as const, AXIS = [0, 0, 0] as const;

/**
 * Ticks of a linear axis over [lo, hi]: multiples of 1, 2 or 5 × 10^k (at least `minStep` apart),
 * about `target` of them, and the range widened to the ticks at or beyond each end (`widen`), or
 * kept (ticks inside it only).
 *
 * @example
 * niceTicks(0.388, 6.47, 5).ticks;   // [0, 2, 4, 6, 8]
 */
export function niceTicks(lo: number, hi: number, target = 5, widen = true, minStep = 0): { ticks: number[]; lo: number; hi: number } {
  if (!(hi > lo)) return { ticks: [lo], lo: lo - 0.5, hi: lo + 0.5 };
  const raw = Math.max((hi - lo) / Math.max(1, target), minStep);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw * (1 - 1e-9))!;
  const first = widen ? Math.floor(lo / step + 1e-9) : Math.ceil(lo / step - 1e-9);
  const last = widen ? Math.ceil(hi / step - 1e-9) : Math.floor(hi / step + 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(+(k * step).toPrecision(12));
  return { ticks, lo: widen ? ticks[0] : lo, hi: widen ? ticks[ticks.length - 1] : hi };
}

/**
 * Ticks of a log10 axis over values [lo, hi] (both > 0): decades (every k-th over many decades), or
 * 1-2-5 × 10^k over less than 1.5 decades, or 1..9 × 10^k within about half a decade; the range
 * widened to the ticks around it. Returned as values, not logarithms.
 *
 * @example
 * logTicks(0.388, 6.47).ticks;   // [0.2, 0.5, 1, 2, 5, 10]
 */
export function logTicks(lo: number, hi: number): { ticks: number[]; lo: number; hi: number } {
  if (!(lo > 0) || !(hi >= lo)) throw new Error(`logTicks: need 0 < lo <= hi, got ${lo}, ${hi}`);
  const decades = Math.log10(hi) - Math.log10(lo);
  const mults = decades >= 1.5 ? [1] : decades >= 0.5 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const every = decades > 6 ? Math.ceil(decades / 6) : 1;
  const candidates: number[] = [];
  for (let k = Math.floor(Math.log10(lo)) - 1; k <= Math.ceil(Math.log10(hi)) + 1; k++) {
    if (mults.length === 1 && k % every !== 0) continue;
    for (const m of mults) candidates.push(+(m * 10 ** k).toPrecision(12));
  }
  const below = candidates.filter((v) => v <= lo * (1 + 1e-9)), above = candidates.filter((v) => v >= hi * (1 - 1e-9));
  const a = below.length ? below[below.length - 1] : candidates[0], b = above.length ? above[0] : candidates[candidates.length - 1];
  const ticks = candidates.filter((v) => v >= a && v <= b);
  return ticks.length >= 2 ? { ticks, lo: a, hi: b } : { ticks: [a, b * 10], lo: a, hi: b * 10 };
}

/** Draw `series` into a new image (white background); see the header for what it shows. */
export function lineChart(series: readonly Series[], opts: ChartOptions = {}): RgbImage {
  const width = opts.width ?? 720;
  const height = opts.height ?? 400;
  const s = opts.textScale ?? 2;
  const img: RgbImage = { width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(255) };
  const log = opts.log ?? false;
  const first = opts.firstStep ?? 1;
  const lineH = FONT_ROWS * s, capH = CAP_ROWS * s, gap = 3 * s;

  const lines = series.map((sr) => ({ ...sr, values: movingAverage(sr.values, sr.smooth ?? 1) }));
  const shown = (v: number): boolean => Number.isFinite(v) && (!log || v > 0);
  const all = lines.flatMap((sr) => sr.values.filter(shown));
  const steps = Math.max(1, ...lines.map((sr) => sr.values.length));
  let lo = all.length ? Math.min(...all) : log ? 0.1 : 0, hi = all.length ? Math.max(...all) : log ? 1 : 1;
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) { if (log) { lo /= 2; hi *= 2; } else { lo -= 0.5; hi += 0.5; } }
  // Margins: title / legend on top, tick labels and a vertical title on the left, ticks and a title below.
  const named = lines.filter((sr) => sr.name);
  const top = gap + (opts.title ? lineH + gap : 0) + (named.length ? lineH + gap : 0) + capH / 2;
  const bottom = 2 * s + gap + lineH + gap + lineH + gap;
  const plotH = Math.max(10, height - top - bottom);
  const yAxis = log ? logTicks(lo, hi) : niceTicks(lo, hi, Math.min(8, Math.max(2, Math.floor(plotH / (2.5 * lineH)))));
  [lo, hi] = log ? [Math.log10(yAxis.lo), Math.log10(yAxis.hi)] : [yAxis.lo, yAxis.hi];
  const yLabels = yAxis.ticks.map(formatTick);
  const left = gap + lineH + gap + Math.max(...yLabels.map((l) => textWidth(l, s))) + gap + 2 * s;
  const lastX = formatTick(first + steps - 1);
  const right = Math.max(gap * 2, Math.ceil(textWidth(lastX, s) / 2) + gap);
  const plotW = Math.max(10, width - left - right);
  // Step ticks: whole steps, as many as fit with room between their labels.
  const room = textWidth(formatTick(first + steps - 1), s) + 6 * gap;
  const stepTicks = steps === 1 ? [first] : niceTicks(first, first + steps - 1, Math.max(1, Math.floor(plotW / room)), false, 1).ticks;
  const x = (i: number): number => left + (steps === 1 ? plotW / 2 : (i / (steps - 1)) * plotW);
  const yOf = (v: number): number => top + plotH - (((log ? Math.log10(v) : v) - lo) / (hi - lo)) * plotH;

  let ty = gap;
  if (opts.title) { drawText(img, opts.title, left, ty, INK, s); ty += lineH + gap; }
  if (named.length) {
    let lx = left;
    for (const sr of named) {
      for (let k = 0; k < 2 * s; k++) hline(img, lx, lx + 8 * s, ty + Math.round(capH / 2) - s + k, sr.color);
      lx += 8 * s + 2 * gap;
      drawText(img, sr.name!, lx, ty, INK, s);
      lx += textWidth(sr.name!, s) + 4 * gap;
    }
  }
  // Grid and value ticks.
  yAxis.ticks.forEach((v, k) => {
    const py = Math.round(yOf(v));
    hline(img, left, left + plotW, py, GRID);
    hline(img, left - 2 * s, left - 1, py, AXIS);
    drawText(img, yLabels[k], left - 2 * s - gap - textWidth(yLabels[k], s), py - Math.round(capH / 2), INK, s);
  });
  // Step ticks at nice values inside the run.
  for (const st of stepTicks) {
    const px = Math.round(x(st - first)), label = formatTick(st);
    vline(img, px, top + plotH + 1, top + plotH + 2 * s, AXIS);
    drawText(img, label, Math.round(px - textWidth(label, s) / 2), top + plotH + 2 * s + gap, INK, s);
  }
  hline(img, left, left + plotW, top + plotH, AXIS);
  vline(img, left, top, top + plotH, AXIS);
  // Axis titles.
  const xTitle = opts.xLabel ?? 'step';
  drawText(img, xTitle, Math.round(left + plotW / 2 - textWidth(xTitle, s) / 2), top + plotH + 2 * s + gap + lineH + gap, INK, s);
  const yTitle = `${opts.yLabel ?? 'loss'}${log ? ' (log scale)' : ''}`;
  drawText(img, yTitle, gap, Math.round(top + plotH / 2 + textWidth(yTitle, s) / 2), INK, s, true);

  for (const sr of lines) {
    let prev: [number, number] | null = null;
    sr.values.forEach((v, i) => {
      if (!shown(v)) { prev = null; return; }
      const p: [number, number] = [x(i), yOf(v)];
      if (prev) segment(img, prev, p, sr.color);
      else dot(img, p, sr.color);
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
