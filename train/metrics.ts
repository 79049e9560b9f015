/**
 * Segmentation metrics, accumulated over a dataset: the confusion matrix and what mmseg's
 * `eval_metrics` derives from it (method.md §4.5; [ZEG] `voc12.py` `evaluate`, mmseg
 * `core/evaluation/metrics.py` `intersect_and_union`).
 *
 * Does:
 *   - ConfusionMatrix(numClasses): `update(pred, label)` adds one image or a batch ([H, W] or
 *     [B, H, W], as tensors, typed arrays or plain arrays), counting counts[label][pred] for every
 *     pixel whose label is not the ignore index (255). Typed-array loops, no tensors.
 *   - From the totals over the dataset (sums first, then ratios, as mmseg):
 *       intersect_c = counts[c][c],  area_label_c = Σ_p counts[c][p],  area_pred_c = Σ_l counts[l][c]
 *       IoU_c = intersect_c / (area_label_c + area_pred_c − intersect_c)   (NaN when the class is in
 *               neither the labels nor the predictions)
 *       Acc_c = intersect_c / area_label_c,  aAcc = Σ intersect / Σ area_label  (pixel accuracy)
 *       mIoU(S), mIoU(U) = nanmean of IoU over the seen / unseen classes,
 *       hIoU = 2·mIoU(S)·mIoU(U) / (mIoU(S) + mIoU(U))   (zero-shot convention, method.md §4.5)
 *   - formatMetricsTable: per-class IoU and Acc as a text table with seen / unseen marked, then the
 *     summary lines. Values are fractions in [0, 1]; the table prints percentages, like mmseg.
 * Does not: the reduce_zero_label / label_map remapping (done by the dataset), F-score / dice metrics,
 *   or reading files.
 *
 * A label outside [0, C) that is not the ignore index, or a prediction outside [0, C), is an error
 * naming the value and its position (mmseg's histc would silently drop it from the areas).
 *
 * Glossary: C classes, B batch, H, W height and width.
 */
import { Tensor } from '../engine/index.ts';

/** A label or prediction map: a tensor or a flat array in row-major [B, H, W] / [H, W] order. */
export type LabelMap = Tensor | ArrayLike<number>;

/**
 * What `ConfusionMatrix.compute` returns: per-class IoU and accuracy and their means (mIoU, seen, unseen, hIoU).
 */
export interface SegMetrics {
  /** Per-class IoU, NaN for classes absent from both labels and predictions. */
  iou: Float64Array;
  /** Per-class accuracy intersect / area_label, NaN for classes absent from the labels. */
  acc: Float64Array;
  /** nanmean of iou over every class. */
  mIoU: number;
  /** nanmean of iou over the seen / unseen classes (NaN when the list is empty or all NaN). */
  mIoUSeen: number;
  mIoUUnseen: number;
  /** 2·S·U / (S + U); NaN when either is NaN, 0 when both are 0. */
  hIoU: number;
  /** Pixel accuracy Σ intersect / Σ area_label over non-ignored pixels (aAcc). */
  pixelAccuracy: number;
  /** nanmean of acc (mAcc). */
  meanAccuracy: number;
  /** Non-ignored pixels counted. */
  pixels: number;
}

/** Which classes are seen and unseen, for the zero-shot means. */
export interface MetricsSplit {
  /** Indices of the seen (training) classes (default: every class not in `unseen`). */
  seen?: readonly number[];
  /** Indices of the unseen classes. */
  unseen?: readonly number[];
}

/**
 * The nan-skipping mean of the values at `indices` (all of them when not given).
 *
 * @example
 * nanmean([0.5, NaN, 0.7]);   // 0.6
 */
export function nanmean(values: ArrayLike<number>, indices?: readonly number[]): number {
  let sum = 0, n = 0;
  const count = indices ? indices.length : values.length;
  for (let k = 0; k < count; k++) {
    const v = values[indices ? indices[k] : k];
    if (!Number.isNaN(v)) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

/**
 * hIoU = 2SU / (S + U) (NaN if either is NaN, 0 when both are 0).
 *
 * @example
 * harmonicMean(0.9, 0.6);   // 0.72
 */
export function harmonicMean(s: number, u: number): number {
  if (Number.isNaN(s) || Number.isNaN(u)) return NaN;
  return s + u === 0 ? 0 : (2 * s * u) / (s + u);
}

function flat(x: LabelMap): { values: ArrayLike<number>; shape: readonly number[] | null } {
  if (x instanceof Tensor) return { values: x.data(), shape: x.shape };
  return { values: x, shape: null };
}

/**
 * Per-class intersection and union counts accumulated over images, as mmseg's IoU metric; `compute`
 * gives mIoU, per-class IoU and accuracy, and the seen / unseen / harmonic means of zero-shot evaluation.
 *
 * @example
 * const cm = new ConfusionMatrix(20, { ignoreIndex: 255 });
 * cm.update(prediction.labels, batch.labels);
 * cm.compute({ unseen: [15, 16, 17, 18, 19] }).mIoU;
 */
export class ConfusionMatrix {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  /** counts[label · C + pred]: pixels of class `label` predicted as `pred` (float64: exact to 2^53). */
  readonly counts: Float64Array;

  constructor(numClasses: number, opts: { ignoreIndex?: number } = {}) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`ConfusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
    this.numClasses = numClasses;
    this.ignoreIndex = opts.ignoreIndex ?? 255;
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /**
   * Add a prediction and its label map (same shape: [H, W] or [B, H, W]; or flat arrays of one length).
   *
   *   cm.update(logits.argmax(1), labels)      // [B, H, W] tensors
   */
  update(pred: LabelMap, label: LabelMap): this {
    const p = flat(pred), l = flat(label);
    if (p.shape && l.shape && (p.shape.length !== l.shape.length || p.shape.some((s, i) => s !== l.shape![i]))) {
      throw new Error(`ConfusionMatrix.update: prediction shape [${p.shape}] differs from label shape [${l.shape}]`);
    }
    for (const s of [p.shape, l.shape]) {
      if (s && s.length !== 2 && s.length !== 3) throw new Error(`ConfusionMatrix.update: expected [H, W] or [B, H, W] maps, got [${s}]`);
    }
    if (p.values.length !== l.values.length) {
      throw new Error(`ConfusionMatrix.update: ${p.values.length} predictions for ${l.values.length} labels`);
    }
    const C = this.numClasses, ignore = this.ignoreIndex, counts = this.counts;
    const pv = p.values, lv = l.values;
    // Validate everything first, so that a bad map leaves the counts as they were.
    for (let i = 0; i < lv.length; i++) {
      const y = lv[i];
      if (y === ignore) continue;
      const q = pv[i];
      if (!(y >= 0 && y < C && Number.isInteger(y))) {
        throw new RangeError(`ConfusionMatrix.update: label ${y} at flat index ${i} is outside [0, ${C}) and is not the ignore index ${ignore}`);
      }
      if (!(q >= 0 && q < C && Number.isInteger(q))) {
        throw new RangeError(`ConfusionMatrix.update: prediction ${q} at flat index ${i} is outside [0, ${C})`);
      }
    }
    for (let i = 0; i < lv.length; i++) {
      const y = lv[i];
      if (y !== ignore) counts[y * C + pv[i]]++;
    }
    return this;
  }

  /** Add another matrix's counts (e.g. from a worker). */
  merge(other: ConfusionMatrix): this {
    if (other.numClasses !== this.numClasses) throw new Error(`ConfusionMatrix.merge: ${other.numClasses} classes, expected ${this.numClasses}`);
    for (let k = 0; k < this.counts.length; k++) this.counts[k] += other.counts[k];
    return this;
  }

  reset(): this {
    this.counts.fill(0);
    return this;
  }

  /** Per-class totals: intersect (diagonal), union, area_pred (column sums), area_label (row sums). */
  areas(): { intersect: Float64Array; union: Float64Array; areaPred: Float64Array; areaLabel: Float64Array } {
    const C = this.numClasses;
    const intersect = new Float64Array(C), union = new Float64Array(C);
    const areaPred = new Float64Array(C), areaLabel = new Float64Array(C);
    for (let l = 0; l < C; l++) {
      for (let q = 0; q < C; q++) {
        const n = this.counts[l * C + q];
        areaLabel[l] += n;
        areaPred[q] += n;
      }
      intersect[l] = this.counts[l * C + l];
    }
    for (let c = 0; c < C; c++) union[c] = areaPred[c] + areaLabel[c] - intersect[c];
    return { intersect, union, areaPred, areaLabel };
  }

  /** IoU, accuracy, mIoU over seen / unseen, hIoU and pixel accuracy of everything counted so far. */
  compute(split: MetricsSplit = {}): SegMetrics {
    const C = this.numClasses;
    for (const idx of [...(split.seen ?? []), ...(split.unseen ?? [])]) {
      if (!Number.isInteger(idx) || idx < 0 || idx >= C) throw new RangeError(`ConfusionMatrix.compute: class index ${idx} is outside [0, ${C})`);
    }
    const { intersect, union, areaLabel } = this.areas();
    const iou = new Float64Array(C), acc = new Float64Array(C);
    let totalI = 0, totalL = 0;
    for (let c = 0; c < C; c++) {
      iou[c] = union[c] === 0 ? NaN : intersect[c] / union[c];
      acc[c] = areaLabel[c] === 0 ? NaN : intersect[c] / areaLabel[c];
      totalI += intersect[c];
      totalL += areaLabel[c];
    }
    // Seen defaults to every class that is not unseen (all classes when no split is given).
    const seen = split.seen ?? Array.from({ length: C }, (_, c) => c).filter((c) => !(split.unseen ?? []).includes(c));
    const mIoUSeen = nanmean(iou, seen);
    const mIoUUnseen = split.unseen ? nanmean(iou, split.unseen) : NaN;
    return {
      iou, acc,
      mIoU: nanmean(iou),
      mIoUSeen, mIoUUnseen,
      hIoU: harmonicMean(mIoUSeen, mIoUUnseen),
      pixelAccuracy: totalL === 0 ? NaN : totalI / totalL,
      meanAccuracy: nanmean(acc),
      pixels: totalL,
    };
  }
}

const pct = (v: number) => (Number.isNaN(v) ? 'nan' : (100 * v).toFixed(2));

/**
 * The per-class table (IoU and Acc in %, seen / unseen marked) and the summary lines.
 *
 *   console.log(formatMetricsTable(cm.compute({ seen, unseen }), VOC_CLASSES, { seen, unseen }));
 */
export function formatMetricsTable(m: SegMetrics, classNames: readonly string[], split: MetricsSplit = {}): string {
  const C = m.iou.length;
  if (classNames.length !== C) throw new Error(`formatMetricsTable: ${classNames.length} class names for ${C} classes`);
  const seen = new Set(split.seen ?? []), unseen = new Set(split.unseen ?? []);
  const mark = (c: number) => (unseen.has(c) ? 'unseen' : seen.has(c) ? 'seen' : '');
  const nameW = Math.max(5, ...classNames.map((n) => n.length));
  const row = (a: string, b: string, c: string, d: string) => `${a.padEnd(nameW)}  ${b.padEnd(6)}  ${c.padStart(6)}  ${d.padStart(6)}`;
  const lines = [row('class', 'split', 'IoU', 'Acc'), '-'.repeat(nameW + 26)];
  for (let c = 0; c < C; c++) lines.push(row(classNames[c], mark(c), pct(m.iou[c]), pct(m.acc[c])));
  lines.push('-'.repeat(nameW + 26));
  const summary: [string, number][] = [['mIoU(S)', m.mIoUSeen], ['mIoU(U)', m.mIoUUnseen], ['hIoU', m.hIoU], ['mIoU', m.mIoU], ['pAcc', m.pixelAccuracy], ['mAcc', m.meanAccuracy]];
  for (const [k, v] of summary) {
    if (k === 'mIoU(U)' || k === 'hIoU') {
      if (split.unseen === undefined) continue;
    }
    lines.push(`${k.padEnd(nameW)}  ${''.padEnd(6)}  ${pct(v).padStart(6)}`);
  }
  return lines.join('\n');
}
