/**
 * Batches of world scenes for CLIP pretraining: normalised image tensors, captions, hard negatives
 * and the per-object patch weights of the region-text term.
 *
 * Does: turn scenes into [B, 3, S, S] images ((x - 0.5) / 0.25, a fixed normalisation of this
 *   world), and for every object with at least `minPixels` visible pixels a row of weights over the
 *   B·N patch tokens (the fraction of each P x P patch the object covers, rows summing to 1), so that
 *   `weights @ patchFeatures` pools each object's patches. A stream of batches whose position is
 *   its state (batch k depends only on (seed, k)), for train/loop.ts.
 * Does not: run the model or the loss (train/pretrain.ts).
 *
 * Also the patch targets of the dense term: each patch whose majority class is an object, and that class.
 * Glossary: B scenes, S image side, P patch side, g = S / P grid side, N = g·g patches, O objects.
 */
import { tensor, type Tensor } from '../../engine/index.ts';
import { asNumber, asObject, type StateTree } from '../../engine/optim/state.ts';
import { BACKGROUND } from './classes.ts';
import { drawWorldScene, sceneGenerator, type WorldScene, type WorldSettings } from './scenes.ts';

export interface WorldBatch {
  scenes: WorldScene[];
  images: Tensor; // [B, 3, S, S]
  captions: string[];
  negatives: string[];
  /** Pooling weights [O, B·N]: row o averages object o's patches. */
  regionWeights: Tensor;
  /** Class of each pooled object, [O] int32. */
  regionClasses: Tensor;
  /** Flat indices (b·N + n) of the patches whose majority is an object, [M] int32. */
  patchIndex: Tensor;
  /** The majority class of each of those patches, [M] int32. */
  patchClasses: Tensor;
}

/** Images [B, 3, S, S], normalised as (x - 0.5) / 0.25. */
export function imagesOf(scenes: readonly WorldScene[]): Tensor {
  const S = scenes[0].size, plane = 3 * S * S;
  const data = new Float32Array(scenes.length * plane);
  scenes.forEach((sc, b) => { for (let i = 0; i < plane; i++) data[b * plane + i] = (sc.image[i] - 0.5) / 0.25; });
  return tensor(data, [scenes.length, 3, S, S]);
}

/**
 * Patch coverage per object: for scene b and its object k, the fraction of each patch's pixels
 * showing the object. Returns rows normalised to sum 1, one per object with ≥ minPixels visible.
 */
export function regionWeightsOf(scenes: readonly WorldScene[], patch: number, minPixels = 16): { weights: Tensor; classes: Tensor } {
  const S = scenes[0].size, g = Math.floor(S / patch), N = g * g;
  const rows: Float32Array[] = [];
  const classes: number[] = [];
  scenes.forEach((sc, b) => {
    sc.objects.forEach((o, k) => {
      const row = new Float32Array(scenes.length * N);
      let total = 0;
      for (let y = 0; y < g * patch; y++) {
        for (let x = 0; x < g * patch; x++) {
          if (sc.instances[y * S + x] !== k) continue;
          row[b * N + Math.floor(y / patch) * g + Math.floor(x / patch)] += 1;
          total++;
        }
      }
      if (total < minPixels) return;
      for (let i = 0; i < row.length; i++) row[i] /= total;
      rows.push(row);
      classes.push(o.cls);
    });
  });
  const flat = new Float32Array(rows.length * scenes.length * N);
  rows.forEach((r, i) => flat.set(r, i * r.length));
  return {
    weights: tensor(flat, [rows.length, scenes.length * N]),
    classes: tensor(classes, [classes.length], { dtype: 'int32' }),
  };
}

/** Majority class of each P x P patch, BACKGROUND when most of it is background: [N] per scene. */
export function patchLabels(scene: WorldScene, patch: number): number[] {
  const S = scene.size, g = Math.floor(S / patch);
  const out: number[] = [];
  for (let py = 0; py < g; py++) {
    for (let px = 0; px < g; px++) {
      const counts = new Map<number, number>();
      for (let y = py * patch; y < (py + 1) * patch; y++) {
        for (let x = px * patch; x < (px + 1) * patch; x++) {
          const l = scene.labels[y * S + x];
          counts.set(l, (counts.get(l) ?? 0) + 1);
        }
      }
      let best = BACKGROUND, bestCount = -1;
      for (const [l, c] of [...counts].sort((a, b) => a[0] - b[0])) if (c > bestCount) { best = l; bestCount = c; }
      out.push(best);
    }
  }
  return out;
}

/** Batch k of a stream: a fraction `single` of the scenes have one object, the rest 1-3. */
export function worldBatch(seed: number, k: number, batchSize: number, single: number, patch: number, world: WorldSettings): WorldBatch {
  const nSingle = Math.round(single * batchSize);
  const scenes = Array.from({ length: batchSize }, (_, i) =>
    drawWorldScene(sceneGenerator(seed, k * batchSize + i), world, i < nSingle ? { objects: 1 } : {}));
  const { weights, classes } = regionWeightsOf(scenes, patch);
  const index: number[] = [], labels: number[] = [];
  scenes.forEach((sc, b) => patchLabels(sc, patch).forEach((l, n, all) => {
    if (l !== BACKGROUND) { index.push(b * all.length + n); labels.push(l); }
  }));
  return {
    scenes, images: imagesOf(scenes), captions: scenes.map((s) => s.caption), negatives: scenes.map((s) => s.negative),
    regionWeights: weights, regionClasses: classes,
    patchIndex: tensor(index, [index.length], { dtype: 'int32' }), patchClasses: tensor(labels, [labels.length], { dtype: 'int32' }),
  };
}

/** An endless stream of batches; its state is the index of the next batch. */
export class WorldStream {
  private k = 0;

  constructor(
    readonly seed: number, readonly batchSize: number, readonly single: number,
    readonly patch: number, readonly world: WorldSettings,
  ) {}

  next(): WorldBatch {
    return worldBatch(this.seed, this.k++, this.batchSize, this.single, this.patch, this.world);
  }

  stateDict(): { next: number } {
    return { next: this.k };
  }

  loadStateDict(state: StateTree): void {
    this.k = asNumber(asObject(state, 'WorldStream state').next, 'WorldStream state: "next"');
  }
}
