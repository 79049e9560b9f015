/**
 * The 12 shape classes of the zero-shot shapes world, each a name and a point-in-shape test in the
 * shape's own frame (u right, v down, the shape fills about the unit disc), plus the default split.
 *
 * Does: names, inside tests, the seen / unseen split (ring, star, arrow unseen, as in
 *   docs/world-study.md). Does not: draw (scenes.ts), caption (captions.ts).
 */

/** A shape class: its name and whether point (u, v) lies inside (u, v in [-1, 1]). */
export interface WorldShape {
  name: string;
  inside: (u: number, v: number) => boolean;
}

const TAU = 2 * Math.PI;

/** 5-pointed star: the radius bound goes linearly in angle from the tip (1) to the notch (0.42). */
function insideStar(u: number, v: number): boolean {
  const r = Math.hypot(u, v);
  if (r > 1) return false;
  const sector = TAU / 5;
  const a = ((Math.atan2(u, -v) % sector) + sector) % sector; // 0 at a tip (the top one points up)
  const t = Math.abs(a - sector / 2) / (sector / 2); // 1 at a tip, 0 at a notch
  return r <= 0.42 + 0.58 * t ** 1.6;
}

/** The classic heart curve (x² + y² - 1)³ - x² y³ ≤ 0, scaled into the unit disc, point down. */
function insideHeart(u: number, v: number): boolean {
  const x = u * 1.25, y = -v * 1.25 + 0.2;
  const q = x * x + y * y - 1;
  return q * q * q - x * x * y * y * y <= 0;
}

export const WORLD_SHAPES: readonly WorldShape[] = [
  { name: 'circle', inside: (u, v) => u * u + v * v <= 0.9 },
  { name: 'square', inside: (u, v) => Math.abs(u) <= 0.75 && Math.abs(v) <= 0.75 },
  { name: 'triangle', inside: (u, v) => v <= 0.75 && v >= 1.8 * Math.abs(u) - 0.95 },
  { name: 'cross', inside: (u, v) => (Math.abs(u) <= 0.28 && Math.abs(v) <= 0.95) || (Math.abs(v) <= 0.28 && Math.abs(u) <= 0.95) },
  { name: 'crescent', inside: (u, v) => u * u + v * v <= 0.95 && (u - 0.5) ** 2 + v * v >= 0.5 },
  { name: 'heart', inside: insideHeart },
  { name: 'diamond', inside: (u, v) => Math.abs(u) / 0.65 + Math.abs(v) <= 1 },
  { name: 'hexagon', inside: (u, v) => Math.abs(v) <= 0.8 && Math.sqrt(3) * Math.abs(u) + Math.abs(v) <= 1.6 },
  { name: 'L-shape', inside: (u, v) => (u >= -0.8 && u <= -0.25 && Math.abs(v) <= 0.9) || (u >= -0.8 && u <= 0.8 && v >= 0.35 && v <= 0.9) },
  { name: 'ring', inside: (u, v) => { const r = u * u + v * v; return r <= 0.95 && r >= 0.36; } },
  { name: 'star', inside: insideStar },
  { name: 'arrow', inside: (u, v) => (u >= -0.95 && u <= 0.15 && Math.abs(v) <= 0.22) || (u >= 0.15 && u <= 0.95 && Math.abs(v) <= 0.95 - u) },
];

/** Class names in label order (label i is WORLD_SHAPES[i]). */
export const WORLD_CLASS_NAMES: readonly string[] = WORLD_SHAPES.map((s) => s.name);

/** The label of pixels no shape covers: the ignore index of the segmentation datasets. */
export const BACKGROUND = 255;

/** The default split: 9 seen classes, 3 unseen (ring, star, arrow), as class indices. */
export const DEFAULT_SPLIT = {
  seen: [0, 1, 2, 3, 4, 5, 6, 7, 8],
  unseen: [9, 10, 11],
} as const;
