/**
 * The self-contained HTML report of a world run: the per-class IoU table with seen / unseen marked,
 * SPT-SEG against the frozen-CLIP baseline, the validation curve (hIoU, mIoU(S), mIoU(U) against the
 * training step, the frozen CLIP's hIoU dashed), one small chart per loss term, and image / ground
 * truth / prediction triples. Charts are inline SVG text (charts.ts), pictures PNGs in data: URLs,
 * so the one file opens anywhere. An old-style `lossCurve` PNG is shown only when no `losses` come.
 * Does not: compute anything (the numbers come in), or write the file (the caller does, atomically).
 */
import { encodeLabelPng, encodePng } from '../../engine/io/image.ts';
import { classPalette, cssColour } from '../../model/palette.ts';
import type { SegMetrics } from '../metrics.ts';
import { movingAverage } from '../plot.ts';
import { extent, OKABE_ITO, svgLineChart } from './charts.ts';
import type { WorldScene } from './scenes.ts';

export interface ReportRow {
  name: string;
  metrics: SegMetrics;
  offset: number;
}

export interface WorldReport {
  title: string;
  settings: Record<string, string | number>;
  classNames: readonly string[];
  unseenIds: readonly number[];
  rows: ReportRow[];
  /** The loss picture of older runs (PNG); drawn only when `losses` is absent. */
  lossCurve?: Uint8Array | null;
  /** Validation scores measured during training (values in [0, 1]; NaN = not measured). */
  curve?: CurvePoint[];
  /** The frozen CLIP's scores on the same validation scenes, one row per baseline. */
  curveBaselines?: ({ name: string } & Omit<CurvePoint, 'step'>)[];
  /** The training loop's log.jsonl records: the loss terms at each step. */
  losses?: { step: number; loss: Record<string, number> }[];
  triples: { scene: WorldScene; pred: Uint8Array }[];
}

export interface CurvePoint {
  step: number;
  mIoUSeen: number;
  mIoUUnseen: number;
  hIoU: number;
}

export const CURVE_CAPTION = 'Validation scenes, offset 0, measured during training; dashed: the frozen CLIP (no training) on the same scenes.';

const png = (bytes: Uint8Array): string => `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
const pct = (v: number): string => (Number.isNaN(v) ? '–' : (100 * v).toFixed(1));
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An RGB [0, 1] CHW scene image as PNG bytes, scaled up `scale`× (nearest) so small scenes are visible. */
export function scenePng(scene: WorldScene, scale = 3): Uint8Array {
  const S = scene.size, W = S * scale;
  const data = new Uint8Array(W * W * 3);
  for (let y = 0; y < W; y++) {
    for (let x = 0; x < W; x++) {
      const p = Math.floor(y / scale) * S + Math.floor(x / scale);
      for (let c = 0; c < 3; c++) data[(y * W + x) * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, scene.image[c * S * S + p])));
    }
  }
  return encodePng({ width: W, height: W, channels: 3, data });
}

/**
 * A label map [S, S] as a palette PNG, scaled up `scale`×, in the class colours of model/palette.ts
 * (those of samples.png, `spt-seg segment` and the web page); 255 (background) is black. With
 * `mask`, pixels where the mask is 255 (background: never scored) are drawn as 255 too, so the
 * picture shows what is scored.
 */
export function labelPng(labels: Uint8Array, S: number, scale = 3, mask?: Uint8Array): Uint8Array {
  const W = S * scale;
  const data = new Uint8Array(W * W);
  for (let y = 0; y < W; y++) {
    for (let x = 0; x < W; x++) {
      const p = Math.floor(y / scale) * S + Math.floor(x / scale);
      const v = mask && mask[p] === 255 ? 255 : labels[p];
      data[y * W + x] = v;
    }
  }
  return encodeLabelPng({ width: W, height: W, data }, classPalette());
}

/** hIoU, mIoU(S) and mIoU(U) in percent against the step; each baseline's hIoU as a dashed line. */
export function validationChart(curve: readonly CurvePoint[], baselines: WorldReport['curveBaselines'] = []): string {
  const metrics = [
    { name: 'hIoU', key: 'hIoU', color: OKABE_ITO.blue },
    { name: 'mIoU(S)', key: 'mIoUSeen', color: OKABE_ITO.green },
    { name: 'mIoU(U)', key: 'mIoUUnseen', color: OKABE_ITO.vermillion },
  ] as const;
  const dashes = ['6 4', '2 3', '10 3 2 3', '1 5'];   // one pattern per baseline, all in the hIoU colour
  return svgLineChart({
    width: 640, height: 320, xLabel: 'training step', yLabel: 'IoU (%)', yInclude: [0],
    series: metrics.map((m) => ({ name: m.name, color: m.color, markers: true, points: curve.map((p): [number, number] => [p.step, 100 * p[m.key]]) })),
    rules: baselines.map((b, i) => ({ name: `${b.name} hIoU ${pct(b.hIoU)}`, color: OKABE_ITO.blue, y: 100 * b.hIoU, dash: dashes[i % dashes.length] })),
  });
}

/** The subtitle a loss term's chart gets: what `total` and `ssim` are made of. */
function lossSubtitle(term: string, terms: readonly string[]): string | undefined {
  const ssimKey = terms.find((k) => k === 'ssim' || k === '1-ssim');
  if (term === 'total' && terms.includes('focal') && ssimKey) return '= 100·focal + (1 − SSIM)';
  if (term === 'ssim') return '= 1 − SSIM';
  return undefined;
}

/**
 * One small chart per loss term, each with its own y range: the raw values light and thin, their
 * moving average (window max(1, round(n/50))) dark. Only `total` may get a log10 axis, when its
 * max/min ratio exceeds 20 (the calibrated start is far above the end).
 */
export function lossCharts(records: readonly { step: number; loss: Record<string, number> }[]): string[] {
  const terms = [...new Set(records.flatMap((r) => Object.keys(r.loss)))];
  const window = Math.max(1, Math.round(records.length / 50));
  return terms.map((term, i) => {
    const values = records.map((r) => r.loss[term] ?? NaN);
    const [lo, hi] = extent(values.filter((v) => Number.isFinite(v) && v > 0));
    const log = term === 'total' && hi / lo > 20;   // no positive values: -Infinity / Infinity, not > 20
    const color = [OKABE_ITO.blue, OKABE_ITO.vermillion, OKABE_ITO.green, OKABE_ITO.purple, OKABE_ITO.orange][i % 5];
    const at = (vs: readonly number[]) => vs.map((v, k): [number, number] => [records[k].step, v]);
    return svgLineChart({
      width: 330, height: 250, xLabel: 'training step', yLabel: log ? `${term} (log)` : term, log,
      title: term, subtitle: lossSubtitle(term, terms),
      series: [
        { name: 'per step', color, faint: true, points: at(values) },
        { name: `mean of ${window}`, color, points: at(movingAverage(values, window)) },
      ],
    });
  });
}

export function renderWorldReport(r: WorldReport): string {
  const unseen = new Set(r.unseenIds);
  const swatch = cssColour;
  const head = r.rows.map((row) => `<th>${esc(row.name)}<br><small>offset ${row.offset}</small></th>`).join('');
  const classRows = r.classNames.map((name, c) => `<tr class="${unseen.has(c) ? 'unseen' : 'seen'}"><td><span class="sw" style="background:${swatch(c)}"></span>${esc(name)}</td>`
    + `<td>${unseen.has(c) ? 'unseen' : 'seen'}</td>${r.rows.map((row) => `<td>${pct(row.metrics.iou[c])}</td>`).join('')}</tr>`).join('\n');
  const summary = (['mIoU(S)', 'mIoU(U)', 'hIoU', 'pAcc'] as const).map((label) => `<tr><th>${label}</th><td></td>${r.rows.map((row) => {
    const m = row.metrics;
    const v = label === 'mIoU(S)' ? m.mIoUSeen : label === 'mIoU(U)' ? m.mIoUUnseen : label === 'hIoU' ? m.hIoU : m.pixelAccuracy;
    return `<td><b>${pct(v)}</b></td>`;
  }).join('')}</tr>`).join('\n');
  const triples = r.triples.map(({ scene, pred }) => `<figure><img src="${png(scenePng(scene))}" alt="image"><img src="${png(labelPng(scene.labels, scene.size))}" alt="ground truth">`
    + `<img src="${png(labelPng(pred, scene.size, 3, scene.labels))}" alt="prediction"><figcaption>${esc(scene.caption)}</figcaption></figure>`).join('\n');
  const curve = r.curve?.length ? `<h2>Validation during training</h2>${validationChart(r.curve, r.curveBaselines)}<p><small>${esc(CURVE_CAPTION)}</small></p>` : '';
  const losses = r.losses?.length ? `<h2>Loss</h2><div class="charts">${lossCharts(r.losses).join('')}</div>`
    : r.lossCurve ? `<h2>Loss</h2><img src="${png(r.lossCurve)}" alt="loss curve"><p><small>Blue: total = 100·focal + (1 − SSIM); orange: focal; green: 1 − SSIM. Log scale, smoothed.</small></p>` : '';
  const settings = Object.entries(r.settings).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(String(v))}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 8px 0 20px; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; } tr.unseen td { background: #fff4e0; }
.sw { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; }
figure { display: inline-block; margin: 0 14px 14px 0; } figure img { margin-right: 3px; image-rendering: pixelated; }
figcaption { font-size: 12px; color: #555; max-width: 600px; }
.charts { display: flex; flex-wrap: wrap; gap: 8px 16px; } svg.chart { display: block; max-width: 100%; height: auto; }
</style></head><body>
<h1>${esc(r.title)}</h1>
<p>Trained on the seen classes only; the unseen classes (highlighted) are segmented from their names alone.
Background pixels are ignored in every metric, as VOC's are.</p>
<h2>Results</h2>
<table><tr><th>class</th><th>split</th>${head}</tr>
${classRows}
${summary}</table>
${curve}
${losses}
<h2>Image / ground truth / prediction</h2>
<p><small>Prediction at the tuned offset, in the class colours of the table above (the same in samples.png, the web page and
<code>spt-seg segment</code>); background pixels (never scored) are black.</small></p>
${triples}
<h2>Settings</h2><table>${settings}</table>
</body></html>
`;
}
