/**
 * The shapes world's two training steps, ours against their PyTorch twins in the same run:
 *   - SPT-SEG on the world CLIP (the step `npm start` / `spt-seg world` repeats 200 times;
 *     twin bench/peers/torch_world_seg.py): a real batch of 16 labelled scenes, spectral prompts and
 *     the HiLo decoder, loss 100 · focal + (1 − SSIM) on the seen classes, backward through the
 *     frozen encoder, gradient clipping and the AdamW step;
 *   - one pretraining step of the tiny CLIP itself (train/pretrain.ts, `spt-seg pretrain`; twin
 *     bench/peers/torch_world.py): a real batch of 32 scenes, the full loss (InfoNCE both ways with
 *     hard negatives, region-text and per-patch terms as the twin has them; the default recipe has
 *     neither), backward, clipping and AdamW; and its image tower's
 *     forward + backward alone. The twin gets the same shapes (B, the batch's O objects and M object
 *     patches) and random values.
 *
 * Run: `npm run bench -- world` (SPT_BENCH_RUNS timed steps after one warm-up, default 5; SPT_BENCH_ROUNDS
 * repeats ours-then-the-twins that many times and reports medians and the ratios' range, default 3).
 * Threads: ours uses the wasm pool's threads, the twin as many. Writes bench/results/world.json.
 */
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
import { medianOf, medianSeconds, pythonPeer, ratioOverRounds, writeResults } from '../harness.ts';

const runs = Number(process.env.SPT_BENCH_RUNS ?? 5);
const backend = useDevice();
const threads = Number((backend as { threads?: number }).threads ?? 1) || 1;
// The twin (bench/peers/torch_world.py) has the two dense terms (over the seen classes here), not the
// caption-mention term of the default recipe: the bench times that loss.
const cfg = { ...PRETRAIN_DEFAULTS, mentionWeight: 0, regionWeight: 1, patchWeight: 1 };
const clip = createWorldClip(cfg.clip, 0);
const params = clip.parameters();
const optimizer = new AdamW(params, { lr: 1e-3, betas: [0.9, 0.98], eps: 1e-6, weightDecay: 0.05 });
const batch = new WorldStream(1, cfg.batchSize, cfg.single, cfg.clip.vision.patchSize, cfg.world, cfg.denseSplit).next();
const B = cfg.batchSize, O = batch.dense!.regionClasses.shape[0], M = batch.dense!.patchClasses.shape[0];

/** Median seconds of `runs` timed calls after one warm-up. */
const median = (fn: () => void): number => medianSeconds(fn, runs, 0);
// SPT-SEG on the world CLIP, as runWorld builds and trains it (batch 16, spectral prompts, HiLo).
const SEG_BATCH = 16;
const seg = sptSegFromClip(clip, worldSptConfig(clip, { spectral: true, attention: 'hilo' }));
const segTask = segmentationTask(seg, new WorldSegStream(1, SEG_BATCH, WORLD_DEFAULTS),
  worldTaskOptions(worldClassText(clip, WORLD_CLASS_NAMES), { steps: 200, seed: 0 }));
const segParams = segTask.optimizer.allParams();
const segBatch = segTask.data.next() as ReturnType<WorldSegStream['next']>;
const segTrain = (): void => tidy(() => {
  segTask.optimizer.zeroGrad();
  segTask.loss(segBatch, 0).total.backward();
  clipGradNorm(segParams, 1);
  segTask.optimizer.step();
}, () => [...segParams, ...segTask.optimizer.stateTensors()]);
const keep = () => [...params, ...optimizer.stateTensors()];
const pretrainStep = (): void => tidy(() => {
  optimizer.zeroGrad();
  pretrainLoss(clip, batch, cfg).total.backward();
  clipGradNorm(params, 1);
  optimizer.step();
}, keep);
const visionStep = (): void => tidy(() => {
  optimizer.zeroGrad();
  const vis = clip.visual;
  vis.ln_post.forward(vis.encode(batch.images)).matmul(vis.proj).square().mean().backward();
}, keep);

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`;
const CASES = [`world SPT-SEG train step (B ${SEG_BATCH}, HiLo, spectral)`, `world pretrain step (B ${B}, O ${O}, M ${M})`, 'world image tower fwd+bwd'];

/** One round: ours, then the twins, each case's seconds (the twin's null where PyTorch is missing). */
function round(): { ours: number[]; torch: (number | null)[]; version: string } {
  const ours = [median(segTrain), median(pretrainStep), median(visionStep)];
  try {
    const seg = pythonPeer<{ version: string; step: number }>('torch_world_seg.py', [threads, SEG_BATCH]);
    const pre = pythonPeer<{ step: number; vision_fwd_bwd: number }>('torch_world.py', [threads, B, O, M]);
    return { ours, torch: [seg.step, pre.step, pre.vision_fwd_bwd], version: seg.version };
  } catch (err) {
    console.warn(`PyTorch twins skipped (apt-get install python3-torch): ${(err as Error).message.split('\n')[0]}`);
    return { ours, torch: [null, null, null], version: '' };
  }
}

// On a shared machine one pair of timings can be off by tens of percent: SPT_BENCH_ROUNDS repeats
// the whole round (ours, then the twins) and reports the medians and the range of the ratios.
const rounds = Array.from({ length: Math.max(1, Number(process.env.SPT_BENCH_ROUNDS ?? 3)) }, round);
const rows: Record<string, string | number | null>[] = [];
console.log(`\n### world (${rounds.length} round${rounds.length > 1 ? 's' : ''})\n`);
console.log('| case | ours ms | PyTorch ms | ours / PyTorch time | range over rounds | machine |');
console.log('|---|---:|---:|---:|---:|---|');
CASES.forEach((name, c) => {
  const ours = rounds.map((r) => r.ours[c]);
  const torch = rounds.map((r) => r.torch[c]);
  const r = ratioOverRounds(ours, torch);
  const torchS = r ? medianOf(torch as number[]) : null;
  rows.push({ case: name, impl: `ours (${backend.name}, ${threads} thr)`, seconds: medianOf(ours), machine, rounds: rounds.length, ratio: r?.ratio ?? null, ratioMin: r?.min ?? null, ratioMax: r?.max ?? null });
  if (torchS !== null) rows.push({ case: name, impl: `PyTorch ${rounds[0].version} (${threads} thr)`, seconds: torchS, machine, rounds: rounds.length });
  console.log(`| ${name} | ${(1000 * medianOf(ours)).toFixed(0)} | ${torchS !== null ? (1000 * torchS).toFixed(0) : '–'} | ${r ? `${r.ratio.toFixed(2)}×` : '–'} | ${r?.range ?? ''} | ${machine}, ${threads} thr |`);
});
writeResults('world', rows);
process.exit(0); // the wasm worker pool keeps handles open
