/**
 * The shapes demo (`spt-seg demo`): a small CLIP-style ViT learns to name the shape in procedural
 * images (scenes.ts), trained from scratch with AdamW on an endless stream of fresh scenes, then
 * evaluated on held-out scenes with a per-class report and a confusion matrix.
 *
 * It exercises the whole stack a real SPT-SEG run uses — the ViT blocks of model/vit.ts, autograd,
 * AdamW with the poly + warmup schedule of method.md §4.1, the fastest backend — at a size that
 * trains in about a minute on two cores. Its step loop is its own (a fresh batch per step, no
 * checkpoints or resumption), not train/loop.ts.
 * Not here: argument parsing and printing (cli/commands/demo.ts).
 *
 * Glossary: B batch, S image side, K shape classes.
 */
import { crossEntropy, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../engine/index.ts';
import { AdamW, clipGradNorm, polyLr } from '../../engine/optim/index.ts';
import { VisionTransformer, type ViTConfig } from '../../model/vit.ts';
import { drawScene, SHAPES, type Scene } from './scenes.ts';
import { Generator } from '../../engine/rng.ts';

export interface ShapesConfig {
  /** Optimizer steps (each on a fresh batch). */
  steps: number;
  batchSize: number;
  /** Image side in pixels. */
  imageSize: number;
  /** Held-out scenes for the final evaluation. */
  testScenes: number;
  lr: number;
  warmupSteps: number;
  seed: number;
}

export const SHAPES_DEFAULTS: ShapesConfig = {
  steps: 1200, batchSize: 32, imageSize: 32, testScenes: 600, lr: 3e-3, warmupSteps: 50, seed: 0,
};

/** A ViT-"Tiny/8" for 32×32 images: 16 patches of 8×8, width 64, 2 blocks, one logit per class. */
export function shapesViTConfig(imageSize: number): ViTConfig {
  return { imageSize, patchSize: imageSize / 4, width: 64, layers: 2, heads: 2, outputDim: SHAPES.length };
}

/** Stack scenes into a normalised batch: images [B, 3, S, S] (mean 0.5, std 0.25) and labels [B]. */
export function batchOf(scenes: readonly Scene[]): { images: Tensor; labels: Tensor } {
  const S = scenes[0].size;
  const plane = 3 * S * S;
  const pixels = new Float32Array(scenes.length * plane);
  scenes.forEach((sc, i) => {
    for (let j = 0; j < plane; j++) pixels[i * plane + j] = (sc.image[j] - 0.5) / 0.25;
  });
  return {
    images: tensor(pixels, [scenes.length, 3, S, S]), // [B, 3, S, S]
    labels: tensor(scenes.map((s) => s.classes[0]), [scenes.length], { dtype: 'int32' }), // [B]
  };
}

export interface StepReport {
  step: number;
  loss: number;
  accuracy: number;
  lr: number;
}

export interface ShapesResult {
  model: VisionTransformer;
  /** Accuracy on the held-out scenes. */
  accuracy: number;
  /** confusion[true][predicted] counts over the held-out scenes. */
  confusion: number[][];
  history: StepReport[];
  seconds: number;
}

/** Train and evaluate; `onStep` is called after every step (for a progress bar). */
export function trainShapes(cfg: ShapesConfig, onStep: (r: StepReport) => void = () => {}): ShapesResult {
  const t0 = performance.now();
  const trainer = shapesTrainer(cfg);
  const history: StepReport[] = [];
  for (let step = 0; step < cfg.steps; step++) {
    const report = trainer.step(step);
    history.push(report);
    onStep(report);
  }
  const { model } = trainer;
  const { accuracy: acc, confusion } = evaluate(model, cfg);
  return { model, accuracy: acc, confusion, history, seconds: (performance.now() - t0) / 1000 };
}

export interface ShapesTrainer {
  model: VisionTransformer;
  /** One optimizer step (0-based index) on a fresh batch; every temporary it makes is freed. */
  step(step: number): StepReport;
}

/** The model, optimizer, schedule and training stream of `trainShapes`, one step at a time. */
export function shapesTrainer(cfg: ShapesConfig): ShapesTrainer {
  manualSeed(cfg.seed); // the initial weights depend on the seed only
  const model = new VisionTransformer(shapesViTConfig(cfg.imageSize));
  const opt = new AdamW(model.parameters(), { lr: cfg.lr, weightDecay: 0.01 });
  const schedule = polyLr({ baseLr: cfg.lr, maxIters: cfg.steps, warmupIters: cfg.warmupSteps, minLr: cfg.lr * 1e-3 });
  // Training scenes come from seed·2+1, test scenes from seed·2+2: the two never overlap.
  const trainGen = new Generator(cfg.seed * 2 + 1);
  // Kept across steps: the weights and the optimizer's moments. Everything else a step makes (the
  // batch, the graph, the gradients it replaces) is freed when its scope ends — on a GPU nothing
  // else would free it (engine/memory.ts).
  const persistent = () => [...model.parameters(), ...opt.stateTensors()];
  const step = (step: number): StepReport => tidy(() => {
    const scenes = Array.from({ length: cfg.batchSize }, () => drawScene(trainGen, { size: cfg.imageSize }));
    const { images, labels } = batchOf(scenes);
    opt.lr = schedule(step);
    opt.zeroGrad();
    const logits = model.forward(images); // [B, K]
    const loss = crossEntropy(logits, labels);
    loss.backward();
    clipGradNorm(model.parameters(), 1.0);
    opt.step();
    return { step: step + 1, loss: loss.item(), accuracy: accuracy(logits, labels), lr: opt.lr };
  }, persistent);
  return { model, step };
}

function accuracy(logits: Tensor, labels: Tensor): number {
  const pred = logits.argmax(1).toArray();
  const truth = labels.toArray();
  return pred.filter((p, i) => p === truth[i]).length / truth.length;
}

/** Accuracy and confusion matrix on `cfg.testScenes` held-out scenes, in eval mode, no graph. */
export function evaluate(model: VisionTransformer, cfg: ShapesConfig): { accuracy: number; confusion: number[][] } {
  const K = SHAPES.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const testGen = new Generator(cfg.seed * 2 + 2);
  model.eval();
  noGrad(() => {
    for (let done = 0; done < cfg.testScenes; done += cfg.batchSize) {
      const n = Math.min(cfg.batchSize, cfg.testScenes - done);
      const scenes = Array.from({ length: n }, () => drawScene(testGen, { size: cfg.imageSize }));
      tidy(() => {
        const { images, labels } = batchOf(scenes);
        const pred = model.forward(images).argmax(1).toArray();
        labels.toArray().forEach((truth, i) => confusion[truth][pred[i]]++);
      }, () => model.parameters());
    }
  });
  model.train();
  const correct = confusion.reduce((s, row, i) => s + row[i], 0);
  return { accuracy: correct / cfg.testScenes, confusion };
}
