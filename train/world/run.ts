/**
 * One SPT-SEG run on the zero-shot shapes world, as `spt-seg world` and `spt-seg ablate` make it:
 * build SPT-SEG from the world CLIP, start its decoder aligned and calibrated on the first batch (or at
 * the official init), train on the seen classes only (inductive), score SPT-SEG and the
 * frozen-CLIP baselines (output tokens and value path) on validation scenes (to tune the seen-class offset) and on test scenes.
 * Variants for the paper's ablations: spectral prompts on / off, HiLo (spectral guided) or plain
 * cross-attention decoder. Does not: print or write the report (cli/commands/world.ts, ablate.ts).
 */
import { tensor, type Tensor } from '../../engine/index.ts';
import type { CLIP } from '../../model/clip.ts';
import type { SptSeg, SptSegConfig } from '../../model/segmenter.ts';
import { alignDecoder, calibrateDecoder, type AlignedDecoder, type CalibrationReport } from '../../model/decoder-start.ts';
import { orientGates, sptSegFromClip, type GateReport } from '../../model/spt-init.ts';
import { sptLoss, type IgnoreMode } from '../losses/spt-loss.ts';
import { runTraining } from '../loop.ts';
import { Progress } from '../progress.ts';
import type { SegMetrics } from '../metrics.ts';
import { labelMap, remapLabels, segmentationTask, type SegTaskOptions } from '../segmentation.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from './classes.ts';
import { WORLD_DEFAULTS, type WorldScene, type WorldSettings } from './scenes.ts';
import { clipProbabilities, metricsAt, scoreScenes, sptProbabilities, tuneOffset, worldClassText, worldScenes, WorldSegStream, type ScoredScenes } from './segment.ts';

export const OFFSETS = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3];

export interface WorldRunOptions {
  steps: number;
  batch: number;
  seed: number;
  /** Test scenes (as many again for validation). */
  testScenes: number;
  /** Spectral prompts at the first 2 blocks (SPT) or none (VPT only). */
  spectral: boolean;
  /** 'hilo' = the spectral guided decoder; 'cross' = the plain (ZegCLIP) decoder. */
  attention: 'hilo' | 'cross';
  /** 'official' (trunc_normal 0.02) or 'aligned' (starts at the frozen-CLIP scores: alignDecoder, model/decoder-start.ts). */
  decoderInit?: 'official' | 'aligned';
  /** With the aligned init: fit the final logits' temperature and threshold on the first batch (calibrateDecoder; default true). */
  calibrate?: boolean;
  /** How unseen-class and background pixels (label 255) enter the loss: 'reference' (the official code) or 'mask' (left out). */
  ignoreMode?: IgnoreMode;
  /** Base learning rate (default 1e-4; backbone and decoder take 10×, mmcv's lr_mult). */
  lr?: number;
  outDir: string | null;
  label: string | null;
  /** Called once the decoder is checked and calibrated, before the first step (to print the checks). */
  onStart?: (checks: { gates: GateReport[]; calibration: CalibrationReport | null }) => void;
  /** Also score the frozen-CLIP baseline (default true). */
  baseline?: boolean;
  world?: WorldSettings;
}

export interface WorldRow {
  name: string;
  offset: number;
  metrics: SegMetrics;
}

export interface WorldRunResult {
  model: SptSeg;
  text: Tensor;
  rows: WorldRow[];
  testScenes: WorldScene[];
  sptTest: ScoredScenes;
  trainable: number;
  trainSeconds: number;
  /** The decoder's gate check before training (orientGates). */
  gates: GateReport[];
  /** The logit temperature chosen before training, when calibrated. */
  calibration: CalibrationReport | null;
}

/** SPT-SEG's shape on the world CLIP: 4 prompt tokens, deep prompts in every later block, a 2-layer decoder of the embedding width. */
export function worldSptConfig(clip: CLIP, o: Pick<WorldRunOptions, 'spectral' | 'attention'>): SptSegConfig {
  const v = clip.config.vision, E = clip.config.embedDim, g = v.imageSize / v.patchSize;
  return {
    encoder: { vision: v, numTokens: 4, deepLayers: v.layers - 1, spectralGrid: o.spectral ? [g, g] : null },
    decoder: { embedDim: E, width: E, layers: 2, ffn: 4 * E, attention: o.attention },
  };
}

/** The training task's settings: inductive on the default split, focal × 100 + (1 − SSIM), poly LR with warm-up, AdamW. */
export function worldTaskOptions(text: Tensor, o: Pick<WorldRunOptions, 'steps' | 'lr' | 'ignoreMode' | 'seed'>): SegTaskOptions {
  const { seen, unseen } = DEFAULT_SPLIT;
  return {
    setting: 'inductive', text, seenIds: seen, unseenIds: unseen, steps: o.steps, lr: o.lr ?? 1e-4, lrMult: 10, weightDecay: 0.01,
    warmupIters: Math.min(50, Math.floor(o.steps / 10)), power: 0.9, minLr: 1e-6,
    loss: { focal: 100, ssim: 1, dice: 0, ignoreMode: o.ignoreMode ?? 'reference' }, trainSpectral: true, seed: o.seed,
  };
}

export async function runWorld(clip: CLIP, o: WorldRunOptions): Promise<WorldRunResult> {
  const world = o.world ?? WORLD_DEFAULTS;
  const t0 = performance.now();
  const text = worldClassText(clip, WORLD_CLASS_NAMES); // [12, E]
  const { seen, unseen } = DEFAULT_SPLIT;
  const model = sptSegFromClip(clip, worldSptConfig(clip, o));
  const stream = new WorldSegStream(o.seed * 3 + 1, o.batch, world);
  const firstBatch = new WorldSegStream(stream.seed, o.batch, world).next(); // the batch training starts with
  const seenText = text.indexSelect(0, tensor([...seen], [seen.length], { dtype: 'int32', like: text })); // [S, E]
  const aligned: AlignedDecoder | null = o.decoderInit === 'aligned' ? alignDecoder(model, { seenText, images: firstBatch.images }) : null;
  const gates = orientGates(model, firstBatch.images);
  const taskOptions = worldTaskOptions(text, o);
  const loss = taskOptions.loss;
  const task = segmentationTask(model, stream, taskOptions);
  let calibration: CalibrationReport | null = null;
  if (aligned && (o.calibrate ?? true)) {
    // The training loss of the first batch, as the task computes it: seen classes only, unseen pixels 255.
    const labels = remapLabels(firstBatch.labels, labelMap(text.shape[0], seen, 'inductive')); // [B, H, W]
    calibration = calibrateDecoder(model, firstBatch.images, seenText, (logits) => sptLoss(logits, labels, {
      focalWeight: loss.focal, ssimWeight: loss.ssim, diceWeight: loss.dice, ignoreMode: loss.ignoreMode,
    }).total.item(), aligned);
  }
  o.onStart?.({ gates, calibration });
  const trainable = task.optimizer.allParams().reduce((n, p) => n + p.size, 0);
  await runTraining(task, { steps: o.steps, outDir: o.outDir, checkpointEvery: o.outDir ? 100 : 0, label: o.label, clipNorm: 1 });
  const trainSeconds = (performance.now() - t0) / 1000;

  // Validation scenes tune the offset; the test scenes are scored once per method.
  const valScenes = worldScenes(o.seed * 3 + 2, 0, o.testScenes, world);
  const testScenes = worldScenes(o.seed * 3 + 3, 0, o.testScenes, world);
  const K = WORLD_CLASS_NAMES.length;
  const methods = 1 + ((o.baseline ?? true) ? 2 : 0);
  // One bar over every scene scored (validation and test, each method), when the run shows progress.
  const bar = o.label !== null ? new Progress({ total: methods * 2 * o.testScenes, label: 'eval', every: 25 * Math.max(1, Math.round((methods * 2 * o.testScenes) / 200)) }) : null;
  let scored = 0;
  const score = (scenes: WorldScene[], probabilities: (images: Tensor) => Float32Array): ScoredScenes => {
    const base = scored;
    const r = scoreScenes(scenes, K, 25, probabilities, (n) => bar?.update(base + n));
    scored += scenes.length;
    return r;
  };
  const sptVal = score(valScenes, (im) => sptProbabilities(model, im, text));
  const sptTest = score(testScenes, (im) => sptProbabilities(model, im, text));
  const tuned = tuneOffset(sptVal, seen, unseen, OFFSETS).offset;
  const rows: WorldRow[] = [
    { name: 'SPT-SEG', offset: tuned, metrics: metricsAt(sptTest, seen, unseen, tuned) },
    { name: 'SPT-SEG (paper offset)', offset: 0.1, metrics: metricsAt(sptTest, seen, unseen, 0.1) },
  ];
  if (o.baseline ?? true) {
    for (const path of ['output', 'value'] as const) {
      const clipVal = score(valScenes, (im) => clipProbabilities(clip, im, text, path));
      const clipTest = score(testScenes, (im) => clipProbabilities(clip, im, text, path));
      const clipTuned = tuneOffset(clipVal, seen, unseen, OFFSETS).offset;
      const name = path === 'output' ? 'frozen CLIP' : 'frozen CLIP (value path, MaskCLIP)';
      rows.push({ name, offset: clipTuned, metrics: metricsAt(clipTest, seen, unseen, clipTuned) });
    }
  }
  bar?.done();
  return { model, text, rows, testScenes, sptTest, trainable, trainSeconds, gates, calibration };
}
