/**
 * Chapter 7 example: the two mask losses of SPT-SEG, focal loss and SSIM, on a small logit map, and a
 * picture of the SSIM map. Run: `npx tsx examples/07-ssim.ts [out-dir]`.
 *
 * Does: a 2-class 24x24 scene (a disc of class 1 on background class 0), one-hot targets, and
 * logits that are right but soft in the disc's interior and wrong along one edge; prints
 * `sigmoidFocalLoss` (train/losses/focal.ts) beside plain BCE, showing how (1 − p_t)^γ shrinks the
 * easy pixels, then `ssim`, `ssimLoss` and `ssimMap` (train/losses/ssim.ts), and writes
 * `<out-dir>/07-ssim-map.png` (default docs/learn/images): target | σ(logits) | SSIM map of class 1 (black −1 .. white 1).
 * Does not: train anything, or use the ignore weights of sptLoss (train/losses/spt-loss.ts).
 *
 * Glossary: B batch (1), C classes (2), H, W height and width (24).
 */
import { join } from 'node:path';
import { binaryCrossEntropyWithLogits, noGrad, setBackend, stack, tensor, type Tensor } from '../engine/index.ts';
import { writePng } from '../engine/io/image.ts';
import { sigmoidFocalLoss, ssim, ssimLoss, ssimMap } from '../train/index.ts';

setBackend('cpu');
const S = 24; // H = W
const OUT = join(process.argv[2] ?? 'docs/learn/images', '07-ssim-map.png');

// One-hot targets: class 1 inside a disc, class 0 elsewhere.
const disc = new Float64Array(S * S);
const logit1 = new Float64Array(S * S);
for (let i = 0; i < S; i++) {
  for (let j = 0; j < S; j++) {
    const r = Math.hypot(i - 11.5, j - 11.5);
    disc[i * S + j] = r < 7 ? 1 : 0;
    // The "prediction": confident far from the edge, unsure near it, and wrong on the right edge.
    const margin = 7 - r; // > 0 inside
    const wrongEdge = j > 15 && Math.abs(margin) < 2.5 ? -1 : 1;
    logit1[i * S + j] = wrongEdge * Math.max(-4, Math.min(4, 1.5 * margin));
  }
}
const plane = (v: Float64Array): Tensor => tensor(v, [S, S], { dtype: 'float64' });
const target1 = plane(disc);
const targets = stack([target1.neg().add(1), target1]).reshape([1, 2, S, S]); // [B, C, H, W]
const logits = stack([plane(logit1).neg(), plane(logit1)]).reshape([1, 2, S, S]); // [B, C, H, W]

noGrad(() => {
  const focal = sigmoidFocalLoss(logits, targets, 2).item(); // 2 masks: (b, c) = (0, 0), (0, 1)
  // The same reduction without the focal factor: every mask has H·W pixels, so it is the plain mean.
  const bce = binaryCrossEntropyWithLogits(logits, targets).item();
  console.log(`logits and one-hot targets [1, 2, ${S}, ${S}]`);
  console.log(`sigmoid focal loss (alpha 0.25, gamma 2) = ${focal.toFixed(6)}`);
  console.log(`plain BCE with logits                 = ${bce.toFixed(6)}`);
  console.log(`focal / BCE = ${(focal / bce).toFixed(4)} (easy pixels count (1 - p_t)^2 as much)`);

  const s = ssim(logits, targets).item();
  const l = ssimLoss(logits, targets).item();
  console.log(`SSIM(logits, targets) = ${s.toFixed(6)}, SSIM loss = 1 - SSIM = ${l.toFixed(6)}`);
  console.log(`SSIM(targets, targets) = ${ssim(targets, targets).item().toFixed(6)} (identical images)`);
  const map = ssimMap(logits, targets); // [B, C, H, W]
  const m1 = map.slice(1, 1, 2).reshape([S, S]).toArray(); // class 1
  const lo = Math.min(...m1), hi = Math.max(...m1);
  console.log(`SSIM map of class 1: min ${lo.toFixed(4)} max ${hi.toFixed(4)} mean ${(m1.reduce((a, b) => a + b, 0) / m1.length).toFixed(4)}`);

  // The picture: three panels, each pixel drawn as a ZOOM x ZOOM block, grey levels 0..255.
  const prob = logits.slice(1, 1, 2).reshape([S, S]).sigmoid().toArray();
  const panels = [disc, prob, m1.map((v) => (v + 1) / 2)];
  const ZOOM = 8, GAP = 4;
  const width = panels.length * S * ZOOM + (panels.length - 1) * GAP, height = S * ZOOM;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  panels.forEach((p, k) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < S * ZOOM; x++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, p[Math.floor(y / ZOOM) * S + Math.floor(x / ZOOM)])));
        const o = (y * width + k * (S * ZOOM + GAP) + x) * 3;
        rgb[o] = rgb[o + 1] = rgb[o + 2] = v;
      }
    }
  });
  return writePng(OUT, { width, height, channels: 3, data: rgb }).then(() => {
    console.log(`wrote ${OUT} (${width}x${height}): target | sigmoid(logits) | SSIM map`);
  });
});
