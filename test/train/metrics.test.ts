/**
 * Segmentation metrics (train/metrics.ts) against an mmseg-style intersect-and-union reference in
 * torch (tools/reference/losses_fixtures.py), plus hand-computed cases, merging, the table and errors.
 */
import t from 'tap';
import { tensor } from '../../engine/index.ts';
import { ConfusionMatrix, formatMetricsTable, harmonicMean, nanmean } from '../../train/index.ts';
import { loadFixture } from '../helpers/fixtures.ts';
import { assertClose } from '../helpers/gradcheck.ts';

const fx = loadFixture('train/losses_metrics');
const meta = JSON.parse(fx.metadata.classes) as { numClasses: number; seen: number[]; unseen: number[]; updates: number; summary: string[] };

t.test('PyTorch / mmseg reference: areas, IoU, Acc, mIoU(S), mIoU(U), hIoU, aAcc over 4 updates', (t) => {
  const cm = new ConfusionMatrix(meta.numClasses);
  for (let k = 0; k < meta.updates; k++) {
    const p = fx.get(`update${k}.pred`), l = fx.get(`update${k}.label`);
    // Alternate the accepted inputs: tensors, typed arrays, plain arrays.
    if (k % 3 === 0) cm.update(tensor(p.data, p.shape, { dtype: 'int32' }), tensor(l.data, l.shape, { dtype: 'int32' }));
    else if (k % 3 === 1) cm.update(p.data, l.data);
    else cm.update(Array.from(p.data), Array.from(l.data));
  }
  const areas = cm.areas();
  t.same(Array.from(areas.intersect), Array.from(fx.get('intersect').data), 'intersect (exact)');
  t.same(Array.from(areas.union), Array.from(fx.get('union').data), 'union (exact)');
  t.same(Array.from(areas.areaPred), Array.from(fx.get('area_pred').data), 'area_pred (exact)');
  t.same(Array.from(areas.areaLabel), Array.from(fx.get('area_label').data), 'area_label (exact)');
  const m = cm.compute({ seen: meta.seen, unseen: meta.unseen });
  assertClose(t, m.iou, fx.get('iou').data, { rtol: 1e-12, name: 'per-class IoU (NaN where absent)' });
  assertClose(t, m.acc, fx.get('acc').data, { rtol: 1e-12, name: 'per-class Acc' });
  t.ok(Array.from(fx.get('iou').data).some(Number.isNaN), 'the reference has a class absent from both (NaN IoU)');
  const values: Record<string, number> = { mIoUSeen: m.mIoUSeen, mIoUUnseen: m.mIoUUnseen, hIoU: m.hIoU, mIoU: m.mIoU, aAcc: m.pixelAccuracy, mAcc: m.meanAccuracy };
  const expected = fx.get('summary').data;
  meta.summary.forEach((k, i) => assertClose(t, [values[k]], [expected[i]], { rtol: 1e-12, name: k }));
  t.end();
});

t.test('hand-computed: 3 classes, ignore, a class absent from both', (t) => {
  // label rows / pred columns. Pixels (label -> pred): 0->0, 0->1, 1->1, 1->1, 255->2 (ignored), 0->0.
  const cm = new ConfusionMatrix(3).update([0, 1, 1, 1, 2, 0], [0, 0, 1, 1, 255, 0]);
  const m = cm.compute({ seen: [0], unseen: [1, 2] });
  t.same(Array.from(cm.counts), [2, 1, 0, 0, 2, 0, 0, 0, 0], 'counts[label][pred]');
  t.equal(m.iou[0], 2 / 3, 'IoU 0 = 2 / (3 + 2 − 2)');
  t.equal(m.iou[1], 2 / 3, 'IoU 1 = 2 / (2 + 3 − 2)');
  t.ok(Number.isNaN(m.iou[2]), 'class 2 absent from labels and predictions (the ignored pixel does not count): NaN');
  t.equal(m.mIoUUnseen, 2 / 3, 'nanmean skips the NaN');
  t.equal(m.pixelAccuracy, 4 / 5, 'pAcc over the 5 non-ignored pixels');
  t.equal(m.pixels, 5);
  t.equal(m.hIoU, 2 / 3);
  t.equal(harmonicMean(0.8, 0.2), 2 * 0.8 * 0.2 / 1.0);
  t.equal(harmonicMean(0, 0), 0);
  t.ok(Number.isNaN(harmonicMean(NaN, 0.5)));
  t.ok(Number.isNaN(nanmean([NaN, NaN])));
  t.equal(cm.compute().mIoUSeen, 2 / 3, 'without a split every class is seen');
  t.ok(Number.isNaN(cm.compute().mIoUUnseen), '... and mIoU(U) is NaN');
  t.end();
});

t.test('merge, reset, batch = per-image updates', (t) => {
  const p = fx.get('update1.pred'), l = fx.get('update1.label'); // [2, 8, 10]
  const whole = new ConfusionMatrix(meta.numClasses).update(p.data, l.data);
  const half = p.data.length / 2;
  const a = new ConfusionMatrix(meta.numClasses).update(p.data.subarray(0, half), l.data.subarray(0, half));
  const b = new ConfusionMatrix(meta.numClasses).update(p.data.subarray(half), l.data.subarray(half));
  t.same(Array.from(a.merge(b).counts), Array.from(whole.counts), 'two halves merged = the batch');
  t.equal(whole.reset().counts.reduce((s, v) => s + v, 0), 0, 'reset clears');
  t.end();
});

t.test('the table marks seen / unseen and prints NaN', (t) => {
  const cm = new ConfusionMatrix(3).update([0, 1, 1, 1, 2, 0], [0, 0, 1, 1, 255, 0]);
  const text = formatMetricsTable(cm.compute({ seen: [0], unseen: [1, 2] }), ['sky', 'road', 'boat'], { seen: [0], unseen: [1, 2] });
  const lines = text.split('\n');
  t.match(lines.find((s) => s.startsWith('sky')) ?? '', /sky\s+seen\s+66\.67\s+66\.67/);
  t.match(lines.find((s) => s.startsWith('road')) ?? '', /road\s+unseen\s+66\.67\s+100\.00/);
  t.match(lines.find((s) => s.startsWith('boat')) ?? '', /boat\s+unseen\s+nan\s+nan/);
  t.match(text, /mIoU\(S\)\s+66\.67/);
  t.match(text, /hIoU\s+66\.67/);
  t.match(text, /pAcc\s+80\.00/);
  t.throws(() => formatMetricsTable(cm.compute(), ['a', 'b']), /2 class names for 3 classes/);
  t.end();
});

t.test('bad input gets a specific error', (t) => {
  const cm = new ConfusionMatrix(3);
  t.throws(() => cm.update([0, 1], [0, 3]), /label 3 at flat index 1 is outside \[0, 3\) and is not the ignore index 255/);
  t.throws(() => cm.update([0, 7], [0, 1]), /prediction 7 at flat index 1 is outside \[0, 3\)/);
  t.throws(() => cm.update([0, 1, 2], [0, 1]), /3 predictions for 2 labels/);
  t.throws(() => cm.update(tensor([0, 1, 2, 0], [2, 2], { dtype: 'int32' }), tensor([0, 1, 2, 0], [1, 4], { dtype: 'int32' })), /prediction shape \[2,2\] differs from label shape \[1,4\]/);
  t.throws(() => cm.update(tensor([0, 1], [2], { dtype: 'int32' }), [0, 1]), /expected \[H, W\] or \[B, H, W\] maps, got \[2\]/);
  t.throws(() => cm.compute({ unseen: [3] }), /class index 3 is outside \[0, 3\)/);
  t.throws(() => new ConfusionMatrix(0), /numClasses must be a positive integer/);
  t.same(Array.from(cm.counts), new Array(9).fill(0), 'a rejected update leaves the counts unchanged');
  t.end();
});
