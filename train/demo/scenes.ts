/**
 * The scenes of the shapes demo (`spt-seg demo`, trainer.ts): images with their per-pixel labels,
 * generated from a seed.
 *
 * Each scene is a noisy, softly coloured background with one or more shapes drawn on it. Every
 * shape class has a name (so text prompts can describe it: "a photo of a ring") and a
 * point-in-shape test; the label map records which class covers each pixel (255 = background,
 * the ignore value of the segmentation datasets). The same seed always draws the same scenes.
 * The demo classifies one-shape scenes by their shape's class.
 * Not here: batching (trainer.ts `batchOf`), tensors beyond the final Float32Array, or the
 * zero-shot segmentation world of `npm start` (train/world/, which draws scenes of its own).
 */
import { Generator } from '../../engine/rng.ts';

/** A shape class: its name and whether point (u, v) lies inside (u, v in [-1, 1] shape coords). */
export interface ShapeClass {
  name: string;
  inside: (u: number, v: number) => boolean;
}

export const SHAPES: readonly ShapeClass[] = [
  { name: 'circle', inside: (u, v) => u * u + v * v <= 1 },
  { name: 'square', inside: (u, v) => Math.abs(u) <= 0.85 && Math.abs(v) <= 0.85 },
  { name: 'triangle', inside: (u, v) => v <= 0.8 && v >= 1.9 * Math.abs(u) - 1 },
  { name: 'ring', inside: (u, v) => { const r = u * u + v * v; return r <= 1 && r >= 0.35; } },
  { name: 'cross', inside: (u, v) => (Math.abs(u) <= 0.3 && Math.abs(v) <= 1) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 1) },
  { name: 'crescent', inside: (u, v) => u * u + v * v <= 1 && (u - 0.55) ** 2 + v * v >= 0.55 },
];

export interface Scene {
  /** RGB in [0, 1], channel-first [3, H, W]. */
  image: Float32Array;
  /** Class index per pixel, 255 where no shape is drawn, [H, W]. */
  labels: Uint8Array;
  /** Classes present, in drawing order. */
  classes: number[];
  size: number;
}

export interface SceneOptions {
  size: number;
  /** Class indices to draw from (all by default). */
  classes?: readonly number[];
  /** Number of shapes per scene (default 1). */
  shapes?: number;
}

/** Draw one scene from the generator. */
export function drawScene(g: Generator, opts: SceneOptions): Scene {
  const { size, shapes = 1 } = opts;
  const pool = opts.classes ?? SHAPES.map((_, i) => i);
  const image = new Float32Array(3 * size * size);
  const labels = new Uint8Array(size * size).fill(255);
  const plane = size * size;
  // Background: a random dim colour with per-pixel noise.
  const bg = [0, 1, 2].map(() => 0.1 + 0.3 * g.random());
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) image[c * plane + i] = bg[c] + 0.08 * (g.random() - 0.5);
  const classes: number[] = [];
  for (let s = 0; s < shapes; s++) {
    const cls = pool[g.int(0, pool.length)];
    classes.push(cls);
    const radius = size * (0.22 + 0.15 * g.random());
    const cx = radius + g.random() * (size - 2 * radius);
    const cy = radius + g.random() * (size - 2 * radius);
    const angle = g.random() * 2 * Math.PI;
    const color = [0, 1, 2].map(() => 0.45 + 0.55 * g.random());
    const cos = Math.cos(angle), sin = Math.sin(angle);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        // Pixel centre in the shape's rotated, scaled frame.
        const dx = (x + 0.5 - cx) / radius, dy = (y + 0.5 - cy) / radius;
        const u = cos * dx + sin * dy, v = -sin * dx + cos * dy;
        if (!SHAPES[cls].inside(u, v)) continue;
        const i = y * size + x;
        labels[i] = cls;
        for (let c = 0; c < 3; c++) image[c * plane + i] = color[c] + 0.05 * (g.random() - 0.5);
      }
    }
  }
  return { image, labels, classes, size };
}

/** A reproducible list of scenes: scene i depends only on (seed, i). */
export function drawScenes(seed: number, count: number, opts: SceneOptions): Scene[] {
  return Array.from({ length: count }, (_, i) => drawScene(new Generator(seed * 1_000_003 + i), opts));
}
