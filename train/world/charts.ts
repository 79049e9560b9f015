/**
 * Line charts as inline SVG text, for the HTML report of a world run (report.ts).
 *
 * Does: draw series of (x, y) points as polylines (optionally dashed, faint, or with point markers),
 *   full-width horizontal reference lines ("rules", e.g. a baseline's score), "nice" ticks (steps
 *   of 1, 2 or 5 × 10^k, about five per axis) with grid lines, a linear or a log10 y axis (ticks
 *   at powers of ten), axis titles, a title and subtitle, and a legend (colour swatch + name) that
 *   wraps below the plot. NaN and infinite points are skipped (the line breaks there), as are
 *   non-positive values on a log axis. All text is escaped and has no font family, so the page's
 *   font is used; the result is plain text, so the report stays one self-contained file.
 * Does not: read or compute any metric (the caller passes numbers), bar charts, a log x axis,
 *   interaction, or pixel output (train/plot.ts draws PNG loss curves for `spt-seg train`).
 *
 * Coordinates: SVG's y grows downward, so a value v maps to top + (1 − t)·height, t = its fraction
 * of the axis range; higher values are drawn higher up.
 */

/** The Okabe-Ito palette (Okabe & Ito 2008): eight colours told apart with any colour vision. */
export const OKABE_ITO = {
  black: '#000000', orange: '#E69F00', skyBlue: '#56B4E9', green: '#009E73',
  yellow: '#F0E442', blue: '#0072B2', vermillion: '#D55E00', purple: '#CC79A7',
} as const;

export interface ChartSeries {
  /** Shown in the legend. */
  name: string;
  /** Any CSS colour. */
  color: string;
  /** [x, y] pairs in drawing order; non-finite ones are skipped. */
  points: readonly (readonly [number, number])[];
  /** true for the default dash, or an SVG stroke-dasharray such as '2 3'. */
  dashed?: boolean | string;
  /** Draw a dot at each point. */
  markers?: boolean;
  /** A thin, light line (raw values under a smoothed one). */
  faint?: boolean;
}

/** A horizontal line across the whole plot at value y, named in the legend. */
export interface ChartRule {
  name: string;
  color: string;
  y: number;
  /** An SVG stroke-dasharray (default '6 4'). */
  dash?: string;
}

export interface LineChartOptions {
  width: number;
  height: number;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  rules?: readonly ChartRule[];
  /** A log10 y axis (ticks at powers of ten). */
  log?: boolean;
  /** Values the y axis must cover even without data there (e.g. [0] for a percent axis). */
  yInclude?: readonly number[];
  title?: string;
  subtitle?: string;
}

const FONT = 11;                       // tick labels and legend, px
const CHAR = 0.6 * FONT;               // a rough average glyph width, to lay out the legend
const DEFAULT_DASH = '6 4';
const RIGHT = 14;                      // room for half the last x tick label

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** [min, max] of the values, by a loop (spreading a long log into Math.min overflows the stack). */
export function extent(values: readonly number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

/** 1, 2, 5 or 10 × 10^k: the "nice" step closest to `raw`. */
export function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/** Decimal places that print every multiple of `step` exactly (0.05 → 2, 20 → 0). */
function decimalsOf(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/**
 * About `count` evenly spaced nice ticks whose first is ≤ lo and whose last is ≥ hi. Each tick is
 * rounded to the step's decimals, so 0.1 + 0.2 prints as 0.3, never 0.30000000000000004.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [0, 1];
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(lo))) {   // one value: widen the range around it
    const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const step = niceStep((hi - lo) / count), digits = decimalsOf(step);
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toFixed(digits)));
  return ticks;
}

/** Powers of ten from ≤ lo to ≥ hi (both > 0), every k-th decade so there are at most ~6. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo)), b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  const every = Math.ceil((b - a) / 6);
  const ticks: number[] = [];
  for (let k = a; k < b + every; k += every) ticks.push(Number(`1e${k}`));   // exact, unlike 10 ** -3
  return ticks;
}

/** A tick label: as many decimals as the step needs; exponent form far from 1 (log axes). */
export function formatTick(v: number, step: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e7)) return v.toExponential().replace('e+', 'e');
  const s = v.toFixed(decimalsOf(step));
  return s === '-0' || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/** The y axis: its ticks and a map from a value to its fraction of the axis (0 bottom, 1 top). */
interface Axis { ticks: number[]; frac: (v: number) => number; label: (v: number) => string }

function linearAxis(values: readonly number[]): Axis {
  const ticks = niceTicks(...extent(values));
  const lo = ticks[0], hi = ticks[ticks.length - 1], step = ticks[1] - ticks[0];
  return { ticks, frac: (v) => (v - lo) / (hi - lo), label: (v) => formatTick(v, step) };
}

function logAxis(values: readonly number[]): Axis {
  const ticks = logTicks(...extent(values));
  const lo = Math.log10(ticks[0]), hi = Math.log10(ticks[ticks.length - 1]);
  return { ticks, frac: (v) => (Math.log10(v) - lo) / (hi - lo), label: (v) => formatTick(v, v) };
}

/** Whether a point can be drawn on this chart. */
const drawable = (p: readonly [number, number], log: boolean): boolean =>
  Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!log || p[1] > 0);

/** Legend entries laid out in rows that fit `width`: each entry's top-left corner. */
function legendLayout(names: readonly string[], width: number): { at: [number, number][]; rows: number } {
  const at: [number, number][] = [];
  let x = 0, row = 0;
  for (const name of names) {
    const w = 22 + name.length * CHAR + 14;   // swatch, gap, text, gap to the next entry
    if (x > 0 && x + w > width) { x = 0; row++; }
    at.push([x, row * (FONT + 6)]);
    x += w;
  }
  return { at, rows: names.length ? row + 1 : 0 };
}

/** The inner rectangle the data is drawn in, after room for titles, tick labels and the legend. */
interface Frame { left: number; top: number; width: number; height: number }

/** Room left of the plot: the y title, the longest y tick label, a gap. */
const leftMargin = (y: Axis): number => 26 + extent(y.ticks.map((t) => y.label(t).length))[1] * CHAR + 8;

function frameOf(o: LineChartOptions, left: number, legendRows: number): Frame {
  const top = 14 + (o.title ? 18 : 0) + (o.subtitle ? 18 : 0);
  const bottom = 40 + (legendRows ? 14 + legendRows * (FONT + 6) : 0);   // tick labels, x title, legend
  return { left, top, width: o.width - left - RIGHT, height: o.height - top - bottom };
}

/** The SVG stroke attributes of a line: colour, width, dash, and opacity for a faint one. */
function strokeOf(color: string, dash: string, faint = false): string {
  return `stroke="${escapeXml(color)}" stroke-width="${faint ? 1 : 2}"${faint ? ' stroke-opacity="0.4"' : ''}`
    + (dash ? ` stroke-dasharray="${escapeXml(dash)}"` : '');
}

const dashOf = (s: ChartSeries): string => (s.dashed === true ? DEFAULT_DASH : s.dashed || '');

/** A polyline for each unbroken run of drawable points (pixel positions; null = skipped), and a dot per point if asked. */
function drawSeries(s: ChartSeries, pixels: readonly ([number, number] | null)[]): string {
  const runs: [number, number][][] = [[]];
  for (const p of pixels) {
    if (p) runs[runs.length - 1].push(p);
    else if (runs[runs.length - 1].length) runs.push([]);   // a gap: start a new line after it
  }
  const xy = (p: [number, number]) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`;
  const lines = runs.filter((r) => r.length > 1).map((r) =>
    `<polyline class="series" fill="none" ${strokeOf(s.color, dashOf(s), s.faint)} stroke-linejoin="round" points="${r.map(xy).join(' ')}"/>`);
  const dots = s.markers ? runs.flat().map(([cx, cy]) =>
    `<circle class="marker" cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="3" fill="${escapeXml(s.color)}"/>`) : [];
  return [...lines, ...dots].join('');
}

/** Grid lines and tick labels of both axes, and the two axis titles. */
function drawAxes(o: LineChartOptions, f: Frame, xs: number[], xOf: (x: number) => number, y: Axis, yOf: (v: number) => number): string {
  const out: string[] = [];
  const xStep = xs.length > 1 ? xs[1] - xs[0] : 1, bottom = f.top + f.height;
  for (const t of xs) {
    const px = xOf(t).toFixed(1);
    out.push(`<line x1="${px}" y1="${f.top}" x2="${px}" y2="${bottom}" stroke="#e4e4e4"/>`,
      `<text x="${px}" y="${bottom + FONT + 4}" text-anchor="middle">${formatTick(t, xStep)}</text>`);
  }
  for (const t of y.ticks) {
    const py = yOf(t).toFixed(1);
    out.push(`<line x1="${f.left}" y1="${py}" x2="${f.left + f.width}" y2="${py}" stroke="#e4e4e4"/>`,
      `<text x="${f.left - 5}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeXml(y.label(t))}</text>`);
  }
  const midY = f.top + f.height / 2;
  out.push(`<text class="x-title" x="${f.left + f.width / 2}" y="${bottom + 2 * FONT + 10}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    `<text class="y-title" x="14" y="${midY}" text-anchor="middle" transform="rotate(-90 14 ${midY})">${escapeXml(o.yLabel)}</text>`);
  return out.join('');
}

/** One legend entry: what its swatch looks like and its name. */
interface LegendEntry { name: string; color: string; dash: string; faint: boolean }

function legendEntries(o: LineChartOptions): LegendEntry[] {
  return [
    ...o.series.map((s) => ({ name: s.name, color: s.color, dash: dashOf(s), faint: s.faint ?? false })),
    ...(o.rules ?? []).map((r) => ({ name: r.name, color: r.color, dash: r.dash ?? DEFAULT_DASH, faint: false })),
  ];
}

/** Title, subtitle and the legend (a short line in each entry's colour and dash, then its name). */
function drawLabels(o: LineChartOptions, f: Frame, entries: readonly LegendEntry[]): string {
  const out: string[] = [];
  if (o.title) out.push(`<text class="title" x="${f.left}" y="24" font-weight="bold" font-size="${FONT + 2}">${escapeXml(o.title)}</text>`);
  if (o.subtitle) out.push(`<text class="subtitle" x="${f.left}" y="${o.title ? 41 : 24}" fill="#555">${escapeXml(o.subtitle)}</text>`);
  const { at } = legendLayout(entries.map((e) => e.name), o.width - f.left);
  const top = f.top + f.height + 2 * FONT + 30;   // below the x title
  entries.forEach((e, i) => {
    const x = f.left + at[i][0], y = top + at[i][1];
    out.push(`<g class="legend"><line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" ${strokeOf(e.color, e.dash, e.faint)}/>`
      + `<text x="${x + 22}" y="${y}" dominant-baseline="middle">${escapeXml(e.name)}</text></g>`);
  });
  return out.join('');
}

/** Horizontal reference lines across the plot (those a log axis can show). */
function drawRules(rules: readonly ChartRule[], f: Frame, yOf: (y: number) => number, log: boolean): string {
  return rules.filter((r) => Number.isFinite(r.y) && (!log || r.y > 0)).map((r) => {
    const py = yOf(r.y).toFixed(1);
    return `<line class="rule" x1="${f.left}" y1="${py}" x2="${f.left + f.width}" y2="${py}" ${strokeOf(r.color, r.dash ?? DEFAULT_DASH)}/>`;
  }).join('');
}

/**
 * A line chart as an `<svg>` element, e.g.
 *   svgLineChart({ width: 480, height: 300, xLabel: 'training step', yLabel: 'hIoU (%)',
 *     series: [{ name: 'hIoU', color: OKABE_ITO.blue, points: [[0, 8], [100, 31]], markers: true }] })
 */
export function svgLineChart(o: LineChartOptions): string {
  const log = o.log ?? false, rules = o.rules ?? [];
  // 1. the axes' ranges: every drawable point, every rule, and the values the caller asks to include
  const pts = o.series.flatMap((s) => s.points).filter((p) => drawable(p, log));
  const ys = [...pts.map((p) => p[1]), ...rules.map((r) => r.y), ...(log ? [] : o.yInclude ?? [])]
    .filter((v) => Number.isFinite(v) && (!log || v > 0));
  const yAxis = log ? logAxis(ys.length ? ys : [1]) : linearAxis(ys.length ? ys : [0, 1]);
  const xs = pts.length ? pts.map((p) => p[0]) : [0, 1];
  const xTicks = niceTicks(...extent(xs));
  // 2. the plot's frame, after room for the titles and the legend, and the maps into it
  const entries = legendEntries(o), names = entries.map((e) => e.name);
  const left = leftMargin(yAxis);
  const f = frameOf(o, left, legendLayout(names, o.width - left).rows);
  const x0 = xTicks[0], x1 = xTicks[xTicks.length - 1];
  const xOf = (x: number) => f.left + ((x - x0) / (x1 - x0)) * f.width;
  const yOf = (y: number) => f.top + (1 - yAxis.frac(y)) * f.height;
  const pixels = (s: ChartSeries) => s.points.map((p): [number, number] | null => (drawable(p, log) ? [xOf(p[0]), yOf(p[1])] : null));
  // 3. back to front: frame, grid and ticks, rules, series, labels
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${o.width}" height="${o.height}" viewBox="0 0 ${o.width} ${o.height}" font-size="${FONT}" fill="#222">`
    + `<rect class="plot-area" x="${f.left}" y="${f.top}" width="${f.width}" height="${f.height}" fill="#fff" stroke="#999"/>`
    + drawAxes(o, f, xTicks, xOf, yAxis, yOf) + drawRules(rules, f, yOf, log) + o.series.map((s) => drawSeries(s, pixels(s))).join('')
    + drawLabels(o, f, entries) + '</svg>';
}
