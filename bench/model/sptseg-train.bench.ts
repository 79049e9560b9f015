/**
 * One SPT-SEG training step at the paper's size: ViT-B/16 at 512 × 512, batch 1, 15 seen VOC classes,
 * the official trainable set (prompts, spectral filter, decoder: 12.9 M parameters), loss
 * 100 · focal + (1 − SSIM) against a 512 × 512 label map, backward through the frozen encoder (the
 * shallow prompts enter block 0, so the gradient crosses every block), AdamW step. Random weights
 * and data: the time does not depend on their values. The figure the README quotes for training on
 * real VOC / COCO-Stuff on this kind of machine.
 *
 * Run: `npm run bench -- sptseg-train` (SPT_BENCH_RUNS timed steps after one warm-up, default 2).
 * Writes bench/results/sptseg-train.json.
 */
import { cpus } from 'node:os';
import { manualSeed, normalize, randint, randn, tidy, useDevice } from '../../engine/index.ts';
import { AdamW } from '../../engine/optim/index.ts';
import { freeze, SptSeg, VOC_VIT_B16 } from '../../model/segmenter.ts';
import { sptLoss } from '../../train/losses/spt-loss.ts';
import { writeResults } from '../harness.ts';

const runs = Number(process.env.SPT_BENCH_RUNS ?? 2);
const backend = useDevice();
manualSeed(0);
const model = new SptSeg(VOC_VIT_B16).train();
const params = freeze(model);
const optimizer = new AdamW(params, { lr: 2e-4, weightDecay: 0.01 });
const image = randn([1, 3, 512, 512]);
const text = normalize(randn([15, 512]), { dim: -1 });
const labels = randint(0, 15, [1, 512, 512], { dtype: 'int32' });

function step(): { seconds: number; forward: number; loss: number } {
  const t0 = performance.now();
  let forward = 0;
  const loss = tidy(() => {
    optimizer.zeroGrad();
    const { maskLogits } = model.forward(image, text); // [1, 15, 32, 32]
    const { total } = sptLoss(maskLogits, labels);
    forward = (performance.now() - t0) / 1000;
    total.backward();
    optimizer.step();
    return total.item();
  }, () => [...params, ...optimizer.stateTensors()]);
  return { seconds: (performance.now() - t0) / 1000, forward, loss };
}

step(); // warm-up
const times = Array.from({ length: runs }, step).sort((a, b) => a.seconds - b.seconds);
const mid = times[times.length >> 1];
const row = {
  case: 'SPT-SEG ViT-B/16 train step 512, batch 1', impl: `ours (${backend.name})`, seconds: mid.seconds,
  forwardSeconds: mid.forward, trainable: params.reduce((n, p) => n + p.size, 0), peakMiB: process.resourceUsage().maxRSS / 1024,
  machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`,
};
console.log('\n### sptseg-train\n');
console.log('| case | impl | s / step | of which forward + loss | trainable | peak RSS MiB | machine |');
console.log('|---|---|---:|---:|---:|---:|---|');
console.log(`| ${row.case} | ${row.impl} | ${row.seconds.toFixed(1)} | ${row.forwardSeconds.toFixed(1)} | ${row.trainable.toLocaleString('en-US')} | ${row.peakMiB.toFixed(0)} | ${row.machine} |`);
writeResults('sptseg-train', [row]);
process.exit(0); // the wasm worker pool keeps handles open
