/**
 * Batches of world scenes for CLIP pretraining: normalised image tensors, captions, hard negatives,
 * the shape names each caption mentions, and (only when a dense term is switched on) region and
 * patch targets of the **seen** classes.
 *
 * Does: turn scenes into [B, 3, S, S] images ((x - 0.5) / 0.25, a fixed normalisation of this
 *   world); read the class names out of each caption's words (the mention term's targets: image-level,
 *   as a caption is); optionally, for every seen object with at least `minPixels` visible pixels, a
 *   row of weights over the B·N patch tokens (the fraction of each P x P patch the object covers, rows
 *   summing to 1) and the majority class of each seen patch. Objects and patches of any class outside
 *   the split's seen list are never targets, and `assertSeenTargets` checks every target built.
 *   A stream of batches whose position is its state (batch k depends only on (seed, k)), for
 *   train/loop.ts.
 * Does not: run the model or the loss (train/pretrain.ts).
 *
 * Glossary: B scenes, S image side, P patch side, g = S / P grid side, N = g·g patches, O objects,
 * M object patches, R caption mentions, K classes.
 */
import { tensor, type Tensor } from '../../engine/index.ts';
import { asNumber, asObject, type StateTree } from '../../engine/optim/state.ts';
import { BACKGROUND, WORLD_CLASS_NAMES } from './classes.ts';
import { drawWorldScene, sceneGenerator, type WorldScene, type WorldSettings } from './scenes.ts';

/**
 * The split the dense terms may read: targets are built for `seen` classes only, and a class of
 * `unseen` is refused (its objects and patches are never targets).
 */
export interface DenseSplit {
  seen: readonly number[];
  unseen: readonly number[];
}

/** The optional dense targets (seen classes only; see `denseTargets`). */
export interface DenseTargets {
  /** Pooling weights [O, B·N]: row o averages object o's patches. */
  regionWeights: Tensor;
  /** Class of each pooled object, [O] int32. */
  regionClasses: Tensor;
  /** Flat indices (b·N + n) of the patches whose majority is a seen object, [M] int32. */
  patchIndex: Tensor;
  /** The majority class of each of those patches, [M] int32. */
  patchClasses: Tensor;
}

/** Caption mentions: one row per (scene, shape name its caption contains). */
export interface Mentions {
  /** The scene of each mention, [R] int32. */
  scene: Tensor;
  /** The class named, [R] int32. */
  cls: Tensor;
  /** Additive mask [R, K]: -1e4 at the other classes the same caption names (not negatives). */
  others: Tensor;
}

export interface WorldBatch {
  scenes: WorldScene[];
  images: Tensor; // [B, 3, S, S]
  captions: string[];
  negatives: string[];
  /** The shape names in each caption, read from the caption's words (no mask, no scene object). */
  mentions: Mentions;
  /** Region and patch targets of the seen classes, or null when no dense term is on (the default). */
  dense: DenseTargets | null;
}

/** The class ids a caption names, in order of first mention, read from its words alone. */
export function captionMentions(caption: string): number[] {
  const ids: number[] = [];
  for (const word of caption.split(/\s+/)) {
    const id = WORLD_CLASS_NAMES.indexOf(word);
    if (id >= 0 && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** The mention rows of a batch's captions (see `Mentions`). */
export function mentionsOf(captions: readonly string[]): Mentions {
  const K = WORLD_CLASS_NAMES.length;
  const scene: number[] = [], cls: number[] = [], others: number[] = [];
  captions.forEach((c, b) => {
    const ids = captionMentions(c);
    for (const id of ids) {
      scene.push(b);
      cls.push(id);
      for (let k = 0; k < K; k++) others.push(k !== id && ids.includes(k) ? -1e4 : 0);
    }
  });
  return {
    scene: tensor(scene, [scene.length], { dtype: 'int32' }),
    cls: tensor(cls, [cls.length], { dtype: 'int32' }),
    others: tensor(others, [cls.length, K]),
  };
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
export function regionWeightsOf(
  scenes: readonly WorldScene[], patch: number, minPixels = 16, allowed: (cls: number) => boolean = () => true,
): { weights: Tensor; classes: Tensor } {
  const S = scenes[0].size, g = Math.floor(S / patch), N = g * g;
  const rows: Float32Array[] = [];
  const classes: number[] = [];
  scenes.forEach((sc, b) => {
    sc.objects.forEach((o, k) => {
      if (!allowed(o.cls)) return;
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

/** Throw unless `split` is two disjoint lists and every id of `targets` is a seen class. */
export function assertSeenTargets(targets: Iterable<number>, split: DenseSplit, what: string): void {
  const clash = split.seen.find((c) => split.unseen.includes(c));
  if (clash !== undefined) throw new Error(`dense split: class ${clash} is listed as both seen and unseen`);
  for (const c of targets) {
    if (!split.seen.includes(c)) {
      throw new Error(`${what}: target class ${c} is not a seen class (seen ${split.seen.join(',')}); no dense target of an unseen class is ever built`);
    }
  }
}

/**
 * The region and patch targets of `scenes`, for the seen classes of `split` only: an object or
 * patch of any other class is not a target (its pixels teach nothing), and the result is checked.
 */
export function denseTargets(scenes: readonly WorldScene[], patch: number, split: DenseSplit): DenseTargets {
  const seen = (c: number): boolean => split.seen.includes(c);
  const { weights, classes } = regionWeightsOf(scenes, patch, 16, seen);
  const index: number[] = [], labels: number[] = [];
  scenes.forEach((sc, b) => patchLabels(sc, patch).forEach((l, n, all) => {
    if (l !== BACKGROUND && seen(l)) { index.push(b * all.length + n); labels.push(l); }
  }));
  assertSeenTargets(classes.toArray(), split, 'region targets');
  assertSeenTargets(labels, split, 'patch targets');
  return {
    regionWeights: weights, regionClasses: classes,
    patchIndex: tensor(index, [index.length], { dtype: 'int32' }), patchClasses: tensor(labels, [labels.length], { dtype: 'int32' }),
  };
}

/**
 * Batch k of a stream: a fraction `single` of the scenes have one object, the rest 1-3. Dense targets
 * are built only when `dense` names a split (seen classes only); by default there are none.
 */
export function worldBatch(
  seed: number, k: number, batchSize: number, single: number, patch: number, world: WorldSettings, dense: DenseSplit | null = null,
): WorldBatch {
  const nSingle = Math.round(single * batchSize);
  const scenes = Array.from({ length: batchSize }, (_, i) =>
    drawWorldScene(sceneGenerator(seed, k * batchSize + i), world, i < nSingle ? { objects: 1 } : {}));
  const captions = scenes.map((s) => s.caption);
  return {
    scenes, images: imagesOf(scenes), captions, negatives: scenes.map((s) => s.negative),
    mentions: mentionsOf(captions),
    dense: dense === null ? null : denseTargets(scenes, patch, dense),
  };
}

/** An endless stream of batches; its state is the index of the next batch. */
export class WorldStream {
  private k = 0;

  constructor(
    readonly seed: number, readonly batchSize: number, readonly single: number,
    readonly patch: number, readonly world: WorldSettings, readonly dense: DenseSplit | null = null,
  ) {}

  next(): WorldBatch {
    return worldBatch(this.seed, this.k++, this.batchSize, this.single, this.patch, this.world, this.dense);
  }

  stateDict(): { next: number } {
    return { next: this.k };
  }

  loadStateDict(state: StateTree): void {
    this.k = asNumber(asObject(state, 'WorldStream state').next, 'WorldStream state: "next"');
  }
}
