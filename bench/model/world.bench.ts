/**
 * The shapes world's two training steps, ours against their PyTorch twins in the same run:
 *   - SPT-SEG on the world CLIP (the step `npm start` / `spt-seg world` repeats 200 times;
 *     twin bench/peers/torch_world_seg.py): a real batch of 16 labelled scenes, spectral prompts and
 *     the HiLo decoder, loss 100 · focal + (1 − SSIM) on the seen classes, backward through the
 *     frozen encoder, gradient clipping and the AdamW step;
 *   - one pretraining step of the tiny CLIP itself (train/pretrain.ts, `spt-seg pretrain`; twin
 *     bench/peers/torch_world.py): a real batch of 32 scenes, the full loss (InfoNCE both ways with
 *     hard negatives, region-text, per-patch), backward, clipping and AdamW; and its image tower's
 *     forward + backward alone. The twin gets the same shapes (B, the batch's O objects and M object
 *     patches) and random values.
 *
 * Run: `npm run bench -- world` (SPT_BENCH_RUNS timed steps after one warm-up, default 5).
 * Threads: ours uses the wasm pool's threads, the twin as many. Writes bench/results/world.json.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { tidy, useDevice } from '../../engine/index.ts';
import { AdamW, clipGradNorm } from '../../engine/optim/index.ts';
import { PRETRAIN_DEFAULTS, createWorldClip, pretrainLoss } from '../../train/pretrain.ts';
import { WorldStream } from '../../train/world/batch.ts';
import { sptSegFromClip } from '../../model/spt-init.ts';
import { segmentationTask } from '../../train/segmentation.ts';
import { WORLD_CLASS_NAMES } from '../../train/world/classes.ts';
import { worldSptConfig, worldTaskOptions } from '../../train/world/run.ts';
import { WORLD_DEFAULTS } from '../../train/world/scenes.ts';
import { worldClassText, WorldSegStream } from '../../train/world/segment.ts';
import { writeResults } from '../harness.ts';

const runs = Number(process.env.SPT_BENCH_RUNS ?? 5);
const backend = useDevice();
const threads = Number((backend as { threads?: number }).threads ?? 1) || 1;
const cfg = PRETRAIN_DEFAULTS;
const clip = createWorldClip(cfg.clip, 0);
const params = clip.parameters();
const optimizer = new AdamW(params, { lr: 1e-3, betas: [0.9, 0.98], eps: 1e-6, weightDecay: 0.05 });
const batch = new WorldStream(1, cfg.batchSize, cfg.single, cfg.clip.vision.patchSize, cfg.world).next();
const B = cfg.batchSize, O = batch.regionClasses.shape[0], M = batch.patchClasses.shape[0];

function median(fn: () => void): number {
  fn();
  const times = Array.from({ length: runs }, () => { const t0 = performance.now(); fn(); return (performance.now() - t0) / 1000; });
  return times.sort((a, b) => a - b)[times.length >> 1];
}
// SPT-SEG on the world CLIP, as runWorld builds and trains it (batch 16, spectral prompts, HiLo).
const SEG_BATCH = 16;
const seg = sptSegFromClip(clip, worldSptConfig(clip, { spectral: true, attention: 'hilo' }));
const segTask = segmentationTask(seg, new WorldSegStream(1, SEG_BATCH, WORLD_DEFAULTS),
  worldTaskOptions(worldClassText(clip, WORLD_CLASS_NAMES), { steps: 200, seed: 0 }));
const segParams = segTask.optimizer.allParams();
const segBatch = segTask.data.next() as ReturnType<WorldSegStream['next']>;
const segStep = median(() => tidy(() => {
  segTask.optimizer.zeroGrad();
  segTask.loss(segBatch, 0).total.backward();
  clipGradNorm(segParams, 1);
  segTask.optimizer.step();
}, () => [...segParams, ...segTask.optimizer.stateTensors()]));

const keep = () => [...params, ...optimizer.stateTensors()];
const step = median(() => tidy(() => {
  optimizer.zeroGrad();
  pretrainLoss(clip, batch, cfg).total.backward();
  clipGradNorm(params, 1);
  optimizer.step();
}, keep));
const vision = median(() => tidy(() => {
  optimizer.zeroGrad();
  const vis = clip.visual;
  vis.ln_post.forward(vis.encode(batch.images)).matmul(vis.proj).square().mean().backward();
}, keep));

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`;
const segCase = `world SPT-SEG train step (B ${SEG_BATCH}, HiLo, spectral)`;
const rows = [
  { case: segCase, impl: `ours (${backend.name}, ${threads} thr)`, seconds: segStep, machine },
  { case: `world pretrain step (B ${B}, O ${O}, M ${M})`, impl: `ours (${backend.name}, ${threads} thr)`, seconds: step, machine },
  { case: 'world image tower fwd+bwd', impl: `ours (${backend.name}, ${threads} thr)`, seconds: vision, machine },
];
try {
  const script = new URL('../peers/torch_world_seg.py', import.meta.url).pathname;
  const torch = JSON.parse(execFileSync('/usr/bin/python3', [script, String(threads), String(SEG_BATCH)], { encoding: 'utf8' })) as
    { version: string; step: number };
  rows.push({ case: segCase, impl: `PyTorch ${torch.version} (${threads} thr)`, seconds: torch.step, machine });
} catch (err) {
  console.warn(`PyTorch twin of the SPT-SEG step skipped (apt-get install python3-torch): ${(err as Error).message.split('\n')[0]}`);
}
try {
  const script = new URL('../peers/torch_world.py', import.meta.url).pathname;
  const torch = JSON.parse(execFileSync('/usr/bin/python3', [script, String(threads), String(B), String(O), String(M)], { encoding: 'utf8' })) as
    { version: string; step: number; vision_fwd_bwd: number };
  rows.push({ case: rows[1].case, impl: `PyTorch ${torch.version} (${threads} thr)`, seconds: torch.step, machine });
  rows.push({ case: rows[2].case, impl: `PyTorch ${torch.version} (${threads} thr)`, seconds: torch.vision_fwd_bwd, machine });
} catch (err) {
  console.warn(`PyTorch twin skipped (apt-get install python3-torch): ${(err as Error).message.split('\n')[0]}`);
}
console.log('\n### world\n');
console.log(`| case | impl | ms | vs PyTorch | machine |`);
console.log('|---|---|---:|---:|---|');
for (const r of rows) {
  const torch = rows.find((o) => o.case === r.case && o.impl.startsWith('PyTorch'));
  const ratio = torch && r !== torch ? `${(r.seconds / torch.seconds).toFixed(2)}× its time` : '';
  console.log(`| ${r.case} | ${r.impl} | ${(1000 * r.seconds).toFixed(0)} | ${ratio} | ${r.machine} |`);
}
writeResults('world', rows);
process.exit(0); // the wasm worker pool keeps handles open
