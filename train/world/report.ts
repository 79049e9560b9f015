/**
 * The self-contained HTML report of a world run: the loss curve, the per-class IoU table with seen /
 * unseen marked, SPT-SEG against the frozen-CLIP baseline, and image / ground truth / prediction
 * triples. Every picture is a PNG embedded as a data: URL, so the one file opens anywhere.
 * Does not: compute anything (the numbers come in), or write the file (the caller does, atomically).
 */
import { encodeLabelPng, encodePng, vocPalette } from '../../engine/io/image.ts';
import type { SegMetrics } from '../metrics.ts';
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
  lossCurve: Uint8Array | null;
  triples: { scene: WorldScene; pred: Uint8Array }[];
}

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
 * A label map [S, S] as a palette PNG, scaled up `scale`×. Class c is drawn in VOC's colour c + 1
 * (VOC's colour 0 is black), 255 in VOC's light border colour. With `mask`, pixels where the mask
 * is 255 (background: never scored) are drawn as 255 too, so the picture shows what is scored.
 */
export function labelPng(labels: Uint8Array, S: number, scale = 3, mask?: Uint8Array): Uint8Array {
  const W = S * scale;
  const data = new Uint8Array(W * W);
  for (let y = 0; y < W; y++) {
    for (let x = 0; x < W; x++) {
      const p = Math.floor(y / scale) * S + Math.floor(x / scale);
      const v = mask && mask[p] === 255 ? 255 : labels[p];
      data[y * W + x] = v === 255 ? 255 : v + 1;
    }
  }
  return encodeLabelPng({ width: W, height: W, data }, vocPalette());
}

export function renderWorldReport(r: WorldReport): string {
  const unseen = new Set(r.unseenIds);
  const palette = vocPalette();
  const swatch = (c: number) => `rgb(${palette[3 * (c + 1)]},${palette[3 * (c + 1) + 1]},${palette[3 * (c + 1) + 2]})`;
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
</style></head><body>
<h1>${esc(r.title)}</h1>
<p>Trained on the seen classes only; the unseen classes (highlighted) are segmented from their names alone.
Background pixels are ignored in every metric, as VOC's are.</p>
<h2>Results</h2>
<table><tr><th>class</th><th>split</th>${head}</tr>
${classRows}
${summary}</table>
${r.lossCurve ? `<h2>Loss</h2><img src="${png(r.lossCurve)}" alt="loss curve"><p><small>Blue: total = 100·focal + (1 − SSIM); orange: focal; green: 1 − SSIM. Log scale, smoothed.</small></p>` : ''}
<h2>Image / ground truth / prediction</h2>
<p><small>Prediction at the tuned offset; background pixels (never scored) are drawn in the border colour.</small></p>
${triples}
<h2>Settings</h2><table>${settings}</table>
</body></html>
`;
}
