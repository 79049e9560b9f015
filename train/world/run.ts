/**
 * One SPT-SEG run on the zero-shot shapes world, as `spt-seg world` and `spt-seg ablate` make it:
 * build SPT-SEG from the world CLIP at the official initialisation, train on the seen classes only
 * (inductive: unseen pixels are 255), and score SPT-SEG and the frozen-CLIP baselines (output tokens
 * and value path) on validation scenes (to tune the seen-class offset) and on test scenes.
 *
 * Does: the default recipe (`WORLD_RECIPE`, every value chosen on validation scenes, docs/world.md);
 *   a validation curve during training (hIoU, mIoU(S), mIoU(U) at offset 0 every `curveEvery` steps,
 *   with the frozen-CLIP lines on the same scenes, and each HiLo layer's share of open gates, so a
 *   gate that has shut everywhere is reported, not trained on silently); the variants of the paper's
 *   ablations (spectral prompts on / off, HiLo or plain decoder) and our options (aligned decoder start,
 *   soft gate, SSIM input, gradient clipping).
 * Does not: print or write the report (cli/commands/world.ts, ablate.ts).
 */
import { tensor, type Tensor } from '../../engine/index.ts';
import type { CLIP } from '../../model/clip.ts';
import type { SptSeg, SptSegConfig } from '../../model/segmenter.ts';
import { alignDecoder, calibrateDecoder, type AlignedDecoder, type CalibrationReport } from '../../model/decoder-start.ts';
import { gateOpenShares, orientGates, sptSegFromClip, type GateReport } from '../../model/spt-init.ts';
import { sptLoss, type IgnoreMode } from '../losses/spt-loss.ts';
import { runTraining, type StepRecord } from '../loop.ts';
import { Progress } from '../progress.ts';
import type { SegMetrics } from '../metrics.ts';
import { labelMap, remapLabels, segmentationTask, type SegTaskOptions } from '../segmentation.ts';
import { imagesOf } from './batch.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from './classes.ts';
import { WORLD_DEFAULTS, type WorldScene, type WorldSettings } from './scenes.ts';
import { clipScores, metricsAt, scoreScenes, sptLogits, tuneOffset, worldClassText, worldScenes, WorldSegStream, type ScoredScenes } from './segment.ts';

export const OFFSETS = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3];

/** How SSIM enters the loss: on the raw logits (official), on the sigmoid probabilities, or not at all. */
export type SsimMode = 'logits' | 'probabilities' | 'off';

/** The training recipe of a world run. */
export interface WorldRecipe {
  steps: number;
  batch: number;
  /** Base learning rate; prompts, spectral filter and decoder take 10× (mmcv's lr_mult). */
  lr: number;
  /** Warm-up length as a fraction of the steps (official: 1,500 of 20,000 = 0.075). */
  warmup: number;
  /** Clip the global gradient norm to this (null: no clipping, as the official config). */
  clipNorm: number | null;
  /** 'official' (trunc_normal 0.02) or 'aligned' (starts at the frozen-CLIP scores, calibrated: model/decoder-start.ts). */
  decoderInit: 'official' | 'aligned';
  /** HiLo's gate: 'clamp' = clamp(cos, 0, 1) (official) or 'soft' = (1 + cos) / 2 (model/hilo.ts). */
  gate: 'clamp' | 'soft';
  ssim: SsimMode;
  /** How label-255 pixels (unseen shapes, background) enter the loss: 'reference' (official) or 'mask'. */
  ignoreMode: IgnoreMode;
  /** Prompt tokens per block (VPT; the official VOC config has 10). */
  tokens: number;
  /** Decoder layers (the official config has 3). */
  decoderLayers: number;
}

/** The default recipe of `spt-seg world` (what `npm start` runs) and `spt-seg ablate`; docs/world.md measures each choice. */
export const WORLD_RECIPE: WorldRecipe = {
  steps: 1000, batch: 16, lr: 1e-4, warmup: 0.075, clipNorm: null, decoderInit: 'official', gate: 'soft', ssim: 'logits', ignoreMode: 'reference',
  tokens: 4, decoderLayers: 2,
};

export interface WorldRunOptions extends Partial<WorldRecipe> {
  seed: number;
  /** Test scenes (as many again for validation). */
  testScenes: number;
  /** Spectral prompts at the first 2 blocks (SPT) or none (VPT only). */
  spectral: boolean;
  /** 'hilo' = the spectral guided decoder; 'cross' = the plain (ZegCLIP) decoder. */
  attention: 'hilo' | 'cross';
  outDir: string | null;
  label: string | null;
  /** Called before the first step with the gate check and (aligned start) the calibration. */
  onStart?: (checks: { gates: GateReport[]; calibration: CalibrationReport | null }) => void;
  /** Validation curve: every this many steps (0: none; default steps / 10). */
  curveEvery?: number;
  /** Validation scenes the curve scores (the first of the validation set; default 100). */
  curveScenes?: number;
  /** Called with each point of the validation curve as it is measured. */
  onCurve?: (point: CurvePoint) => void;
  /** Called after each step (the loop's record). */
  onStep?: (record: StepRecord) => void;
  /** Also score the frozen-CLIP baselines (default true). */
  baseline?: boolean;
  world?: WorldSettings;
  /** Continue from `outDir`'s checkpoint (the loop restores weights, optimizer, data position and RNG). */
  resume?: boolean;
  /** Do not measure the curve's step 0 (a resumed run has it already). */
  skipFirstCurve?: boolean;
}

export interface WorldRow {
  name: string;
  offset: number;
  metrics: SegMetrics;
}

/** One point of the validation curve: offset 0, `curveScenes` validation scenes. */
export interface CurvePoint {
  step: number;
  mIoUSeen: number;
  mIoUUnseen: number;
  hIoU: number;
  /** Per HiLo layer, the share of tokens whose gate is open (clamp: cos > 0); empty for the plain decoder. */
  gateOpen: number[];
}

export interface WorldRunResult {
  model: SptSeg;
  text: Tensor;
  recipe: WorldRecipe;
  rows: WorldRow[];
  testScenes: WorldScene[];
  sptTest: ScoredScenes;
  trainable: number;
  trainSeconds: number;
  /** The decoder's gate check before training. */
  gates: GateReport[];
  /** The logit temperature chosen before training, when calibrated. */
  calibration: CalibrationReport | null;
  /** The validation curve (step 0 = before training), and the frozen-CLIP lines on the same scenes. */
  curve: CurvePoint[];
  curveBaselines: { name: string; mIoUSeen: number; mIoUUnseen: number; hIoU: number }[];
  /** How the run ended: 'done', or 'interrupted' (Ctrl-C: checkpoint saved, nothing evaluated). */
  stopped: 'done' | 'interrupted';
  /** Completed steps. */
  step: number;
}

/** SPT-SEG's shape on the world CLIP: prompt tokens, deep prompts in every later block, a decoder of the embedding width. */
export function worldSptConfig(clip: CLIP, o: Pick<WorldRunOptions, 'spectral' | 'attention' | 'gate' | 'tokens' | 'decoderLayers'>): SptSegConfig {
  const v = clip.config.vision, E = clip.config.embedDim, g = v.imageSize / v.patchSize;
  return {
    encoder: { vision: v, numTokens: o.tokens ?? WORLD_RECIPE.tokens, deepLayers: v.layers - 1, spectralGrid: o.spectral ? [g, g] : null },
    decoder: {
      embedDim: E, width: E, layers: o.decoderLayers ?? WORLD_RECIPE.decoderLayers, ffn: 4 * E, attention: o.attention,
      hilo: { gate: o.gate ?? WORLD_RECIPE.gate },
    },
  };
}

/** The training task's settings: inductive on the default split, focal × 100 + (1 − SSIM), poly LR with warm-up, AdamW. */
export function worldTaskOptions(text: Tensor, o: Partial<WorldRecipe> & { steps: number; seed: number }): SegTaskOptions {
  const { seen, unseen } = DEFAULT_SPLIT;
  const ssim = o.ssim ?? WORLD_RECIPE.ssim;
  return {
    setting: 'inductive', text, seenIds: seen, unseenIds: unseen, steps: o.steps, lr: o.lr ?? WORLD_RECIPE.lr, lrMult: 10, weightDecay: 0.01,
    warmupIters: Math.round((o.warmup ?? WORLD_RECIPE.warmup) * o.steps), power: 0.9, minLr: 1e-6,
    loss: { focal: 100, ssim: ssim === 'off' ? 0 : 1, dice: 0, ignoreMode: o.ignoreMode ?? WORLD_RECIPE.ignoreMode, ssimInput: ssim === 'probabilities' ? 'probabilities' : 'logits' },
    trainSpectral: true, seed: o.seed,
  };
}

const SEEN = DEFAULT_SPLIT.seen, UNSEEN = DEFAULT_SPLIT.unseen;

export async function runWorld(clip: CLIP, o: WorldRunOptions): Promise<WorldRunResult> {
  const recipe: WorldRecipe = { ...WORLD_RECIPE, ...Object.fromEntries(Object.entries(o).filter(([k, v]) => k in WORLD_RECIPE && v !== undefined)) };
  const world = o.world ?? WORLD_DEFAULTS;
  const t0 = performance.now();
  const text = worldClassText(clip, WORLD_CLASS_NAMES); // [12, E]
  const K = WORLD_CLASS_NAMES.length;
  const model = sptSegFromClip(clip, worldSptConfig(clip, { ...o, ...recipe }));
  const stream = new WorldSegStream(o.seed * 3 + 1, recipe.batch, world);
  const firstBatch = new WorldSegStream(stream.seed, recipe.batch, world).next(); // the batch training starts with
  const seenText = text.indexSelect(0, tensor([...SEEN], [SEEN.length], { dtype: 'int32', like: text })); // [S, E]
  const aligned: AlignedDecoder | null = recipe.decoderInit === 'aligned' ? alignDecoder(model, { seenText, images: firstBatch.images }) : null;
  // The official clamp gate can start shut on a batch; our guard picks the sign of the randn draw
  // that opens more tokens (spt-init.ts). The soft gate is never shut, so it keeps the draw as it is.
  const gates = recipe.gate === 'clamp' ? orientGates(model, firstBatch.images) : gateOpenShares(model, firstBatch.images).map((open, layer) => ({ layer, openBefore: open, open, flipped: false }));
  const taskOptions = worldTaskOptions(text, { ...recipe, seed: o.seed });
  const loss = taskOptions.loss;
  const task = segmentationTask(model, stream, taskOptions);
  let calibration: CalibrationReport | null = null;
  if (aligned) {
    // The training loss of the first batch, as the task computes it: seen classes only, unseen pixels 255.
    const labels = remapLabels(firstBatch.labels, labelMap(K, SEEN, 'inductive')); // [B, H, W]
    calibration = calibrateDecoder(model, firstBatch.images, seenText, (logits) => sptLoss(logits, labels, {
      focalWeight: loss.focal, ssimWeight: loss.ssim, diceWeight: loss.dice, ignoreMode: loss.ignoreMode, ssimInput: loss.ssimInput,
    }).total.item(), aligned);
  }
  o.onStart?.({ gates, calibration });
  const trainable = task.optimizer.allParams().reduce((n, p) => n + p.size, 0);

  // Validation scenes tune the offset and draw the curve; the test scenes are scored once per method.
  const valScenes = worldScenes(o.seed * 3 + 2, 0, o.testScenes, world);
  const testScenes = worldScenes(o.seed * 3 + 3, 0, o.testScenes, world);
  const curveEvery = o.curveEvery ?? Math.max(1, Math.round(recipe.steps / 10));
  const curveSet = valScenes.slice(0, Math.min(o.curveScenes ?? 100, valScenes.length));
  const curveImages = imagesOf(curveSet.slice(0, Math.min(16, curveSet.length)));
  const curve: CurvePoint[] = [];
  const measure = (step: number): void => {
    const m = metricsAt(scoreScenes(curveSet, K, 25, 'logits', (im) => sptLogits(model, im, text)), SEEN, UNSEEN, 0);
    const point = { step, mIoUSeen: m.mIoUSeen, mIoUUnseen: m.mIoUUnseen, hIoU: m.hIoU, gateOpen: gateOpenShares(model, curveImages) };
    curve.push(point);
    o.onCurve?.(point);
  };
  if (curveEvery > 0 && !o.skipFirstCurve) measure(0);
  const result = await runTraining(task, {
    steps: recipe.steps, outDir: o.outDir, checkpointEvery: o.outDir ? 100 : 0, label: o.label, clipNorm: recipe.clipNorm,
    resume: o.resume ? 'auto' : null,
    onStep: (r) => {
      o.onStep?.(r);
      if (curveEvery > 0 && (r.step % curveEvery === 0 || r.step === recipe.steps)) measure(r.step);
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const curveBaselines = (o.baseline ?? true) && curveEvery > 0 ? (['output', 'value'] as const).map((path) => {
    const m = metricsAt(scoreScenes(curveSet, K, 25, 'scores', (im) => clipScores(clip, im, text, path)), SEEN, UNSEEN, 0);
    return { name: baselineName(path), mIoUSeen: m.mIoUSeen, mIoUUnseen: m.mIoUUnseen, hIoU: m.hIoU };
  }) : [];
  const base = { model, text, recipe, testScenes, trainable, trainSeconds, gates, calibration, curve, curveBaselines, step: result.step };
  if (result.stopped !== 'done' || result.step < recipe.steps) {
    return { ...base, rows: [], sptTest: { batches: [], kind: 'logits', K, pixels: 0 }, stopped: 'interrupted' };
  }

  const methods = 1 + ((o.baseline ?? true) ? 2 : 0);
  // One bar over every scene scored (validation and test, each method), when the run shows progress.
  const bar = o.label !== null ? new Progress({ total: methods * 2 * o.testScenes, label: 'eval', every: 25 * Math.max(1, Math.round((methods * 2 * o.testScenes) / 200)) }) : null;
  let scored = 0;
  const score = (scenes: WorldScene[], kind: ScoredScenes['kind'], scoresOf: (images: Tensor) => Float32Array): ScoredScenes => {
    const start = scored;
    const r = scoreScenes(scenes, K, 25, kind, scoresOf, (n) => bar?.update(start + n));
    scored += scenes.length;
    return r;
  };
  const sptVal = score(valScenes, 'logits', (im) => sptLogits(model, im, text));
  const sptTest = score(testScenes, 'logits', (im) => sptLogits(model, im, text));
  const tuned = tuneOffset(sptVal, SEEN, UNSEEN, OFFSETS).offset;
  const rows: WorldRow[] = [
    { name: 'SPT-SEG', offset: tuned, metrics: metricsAt(sptTest, SEEN, UNSEEN, tuned) },
    { name: 'SPT-SEG (paper offset)', offset: 0.1, metrics: metricsAt(sptTest, SEEN, UNSEEN, 0.1) },
  ];
  if (o.baseline ?? true) {
    for (const path of ['output', 'value'] as const) {
      const clipVal = score(valScenes, 'scores', (im) => clipScores(clip, im, text, path));
      const clipTest = score(testScenes, 'scores', (im) => clipScores(clip, im, text, path));
      const clipTuned = tuneOffset(clipVal, SEEN, UNSEEN, OFFSETS).offset;
      rows.push({ name: baselineName(path), offset: clipTuned, metrics: metricsAt(clipTest, SEEN, UNSEEN, clipTuned) });
    }
  }
  bar?.done();
  return { ...base, rows, sptTest, stopped: 'done' };
}

function baselineName(path: 'output' | 'value'): string {
  return path === 'output' ? 'frozen CLIP' : 'frozen CLIP (value path, MaskCLIP)';
}
