/**
 * Procedural segmentation scenes of the zero-shot shapes world, deterministic by seed.
 *
 * Does: draw an RGB scene (textured background, 1-3 shapes of the 12 classes of classes.ts, random
 *   colour, size, aspect, rotation, texture; later shapes occlude earlier ones, but never hide more
 *   than a quarter of one), its pixel labels (class index, BACKGROUND = 255 elsewhere), the object
 *   each pixel shows (for the optional, seen-only region-text term of pretraining), and a caption ("a star above a small
 *   ring"; colour rarely, size sometimes) with a hard negative (the same caption with one shape
 *   swapped). `drawWorldScenes(seed, n)`: scene i depends only on (seed, i).
 * Does not: tensors, batching, files (export.ts), or the 6-shape classifier demo's scenes (train/demo/scenes.ts).
 *
 * The settings are the "easier world" of docs/world-study.md: 64x64, 1-3 objects, radius 12-20 px,
 * mild background texture. They are reported beside every number (docs/world.md).
 */
import { Generator } from '../../engine/rng.ts';
import { BACKGROUND, WORLD_SHAPES } from './classes.ts';

export interface WorldSettings {
  /** Image side in pixels (64). */
  size: number;
  /** Objects per scene: uniform in [minObjects, maxObjects] (1-3). */
  minObjects: number;
  maxObjects: number;
  /** Shape radius in pixels: uniform in [minRadius, maxRadius] (12-20). */
  minRadius: number;
  maxRadius: number;
  /** Amplitude of the background's smooth and pixel noise (0.5 = mild; the study used 1). */
  texture: number;
  /** Probability of a striped background (0.2). */
  stripes: number;
  /** Probability that a caption names an object's colour (0.15: rarely, to avoid a colour shortcut). */
  colourWords: number;
  /** Probability that a caption names a small / large object's size (0.3). */
  sizeWords: number;
  /** Classes to draw from (all 12 by default). */
  classes?: readonly number[];
}

export const WORLD_DEFAULTS: WorldSettings = {
  size: 64, minObjects: 1, maxObjects: 3, minRadius: 12, maxRadius: 20,
  texture: 0.5, stripes: 0.2, colourWords: 0.15, sizeWords: 0.3,
};

/** Ten named colours (RGB in [0, 1]), bright enough to stand out of the darker backgrounds. */
export const COLOURS: readonly { name: string; rgb: readonly [number, number, number] }[] = [
  { name: 'red', rgb: [0.9, 0.15, 0.15] }, { name: 'green', rgb: [0.2, 0.8, 0.25] },
  { name: 'blue', rgb: [0.25, 0.4, 0.95] }, { name: 'yellow', rgb: [0.95, 0.9, 0.2] },
  { name: 'orange', rgb: [0.98, 0.55, 0.1] }, { name: 'purple', rgb: [0.65, 0.3, 0.85] },
  { name: 'pink', rgb: [0.98, 0.55, 0.75] }, { name: 'cyan', rgb: [0.2, 0.9, 0.9] },
  { name: 'white', rgb: [0.95, 0.95, 0.95] }, { name: 'brown', rgb: [0.6, 0.4, 0.2] },
];

export interface WorldObject {
  /** Class index into WORLD_SHAPES. */
  cls: number;
  /** Index into COLOURS. */
  colour: number;
  /** Centre (pixels) and radius (pixels). */
  cx: number;
  cy: number;
  radius: number;
  /** Pixels where this object is visible (after occlusion by later objects). */
  visible: number;
}

export interface WorldScene {
  size: number;
  /** RGB in [0, 1], channel-first [3, H, W]. */
  image: Float32Array;
  /** Class index per pixel, BACKGROUND (255) where no shape is visible, [H, W]. */
  labels: Uint8Array;
  /** Index into `objects` of the object visible at each pixel, 255 for background, [H, W]. */
  instances: Uint8Array;
  objects: WorldObject[];
  caption: string;
  /** The caption with one object's shape swapped for another class: a hard negative. */
  negative: string;
}

/** What a caption says about each object and how the sentence is built (kept to build the negative). */
interface CaptionPlan {
  template: number;
  size: boolean[];
  colour: boolean[];
}

function phrase(o: WorldObject, cls: number, plan: CaptionPlan, i: number, s: WorldSettings): string {
  const words: string[] = [];
  if (plan.size[i]) words.push(o.radius < (s.minRadius + s.maxRadius) / 2 ? 'small' : 'large');
  if (plan.colour[i]) words.push(COLOURS[o.colour].name);
  words.push(WORLD_SHAPES[cls].name);
  return words.join(' ');
}

function relation(a: WorldObject, b: WorldObject): string {
  const dx = b.cx - a.cx, dy = b.cy - a.cy;
  if (Math.abs(dx) >= Math.abs(dy)) return dx > 0 ? 'left of' : 'right of';
  return dy > 0 ? 'above' : 'below';
}

const SINGLE_TEMPLATES = ['a photo of a {}', 'a {}', 'there is a {}', 'a {} on a textured background'];

/** The caption of `objects`, with `classes[i]` as object i's shape (the true classes or a swap). */
function captionOf(objects: readonly WorldObject[], classes: readonly number[], plan: CaptionPlan, s: WorldSettings): string {
  const p = objects.map((o, i) => phrase(o, classes[i], plan, i, s));
  if (objects.length === 1) return SINGLE_TEMPLATES[plan.template % SINGLE_TEMPLATES.length].replace('{}', p[0]);
  const first = `a ${p[0]} ${relation(objects[0], objects[1])} a ${p[1]}`;
  const rest = p.slice(2).map((x) => ` and a ${x}`).join('');
  return plan.template % 2 === 0 ? first + rest : `a photo of ${first}${rest}`;
}

/** Smooth noise: a sum of three random low-frequency plane waves, values in about [-1, 1]. */
function smoothField(g: Generator, size: number): Float32Array {
  const waves = Array.from({ length: 3 }, () => ({
    fx: (g.random() - 0.5) * 0.4, fy: (g.random() - 0.5) * 0.4, phase: g.random() * 2 * Math.PI,
  }));
  const f = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v = 0;
      for (const w of waves) v += Math.sin(w.fx * x + w.fy * y + w.phase);
      f[y * size + x] = v / 3;
    }
  }
  return f;
}

function drawBackground(g: Generator, image: Float32Array, s: WorldSettings): void {
  const { size, texture } = s;
  const plane = size * size;
  const base = [0, 1, 2].map(() => 0.12 + 0.3 * g.random());
  const tint = [0, 1, 2].map(() => (g.random() - 0.5) * 0.2);
  const field = smoothField(g, size);
  const striped = g.random() < s.stripes;
  const period = 4 + 6 * g.random(), angle = g.random() * Math.PI;
  const ca = Math.cos(angle), sa = Math.sin(angle);
  for (let i = 0; i < plane; i++) {
    const x = i % size, y = Math.floor(i / size);
    const stripe = striped ? 0.08 * Math.sign(Math.sin((2 * Math.PI * (ca * x + sa * y)) / period)) : 0;
    for (let c = 0; c < 3; c++) {
      image[c * plane + i] = base[c] + texture * (tint[c] * field[i] + 0.1 * (g.random() - 0.5)) + stripe;
    }
  }
}

/** One object's pixels under a placement: true where the shape covers the pixel centre. */
function rasterize(o: WorldObject, angle: number, aspect: number, size: number): Uint8Array {
  const cover = new Uint8Array(size * size);
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const r = o.radius;
  const x0 = Math.max(0, Math.floor(o.cx - 1.5 * r)), x1 = Math.min(size, Math.ceil(o.cx + 1.5 * r));
  const y0 = Math.max(0, Math.floor(o.cy - 1.5 * r)), y1 = Math.min(size, Math.ceil(o.cy + 1.5 * r));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const dx = (x + 0.5 - o.cx) / r, dy = (y + 0.5 - o.cy) / r;
      const u = (cos * dx + sin * dy) * aspect, v = (-sin * dx + cos * dy) / aspect;
      if (WORLD_SHAPES[o.cls].inside(u, v)) cover[y * size + x] = 1;
    }
  }
  return cover;
}

export interface DrawOptions {
  /** Force this many objects (e.g. 1 for single-object crops and the zero-shot check). */
  objects?: number;
  /** Centre a single object (the zero-shot check's "single centred objects"). */
  centred?: boolean;
  /** Force the first object's class. */
  cls?: number;
}

/** Draw one scene from the generator. */
export function drawWorldScene(g: Generator, s: WorldSettings = WORLD_DEFAULTS, opts: DrawOptions = {}): WorldScene {
  const { size } = s;
  const plane = size * size;
  const pool = s.classes ?? WORLD_SHAPES.map((_, i) => i);
  const image = new Float32Array(3 * plane);
  const labels = new Uint8Array(plane).fill(BACKGROUND);
  const instances = new Uint8Array(plane).fill(BACKGROUND);
  drawBackground(g, image, s);
  const count = opts.objects ?? g.int(s.minObjects, s.maxObjects + 1);
  const objects: WorldObject[] = [];
  for (let k = 0; k < count; k++) {
    const cls = k === 0 && opts.cls !== undefined ? opts.cls : pool[g.int(0, pool.length)];
    const colour = g.int(0, COLOURS.length);
    const angle = g.random() * 2 * Math.PI, aspect = 0.85 + 0.3 * g.random();
    const texture = g.random() < 0.25 ? 2 + g.int(0, 3) : 0; // striped objects, period in pixels
    let cover: Uint8Array = new Uint8Array(0);
    let o: WorldObject | null = null;
    // Up to 10 placements: keep the first that hides at most a quarter of every earlier object.
    for (let attempt = 0; attempt < 10; attempt++) {
      const radius = s.minRadius + (s.maxRadius - s.minRadius) * g.random();
      const margin = Math.min(radius * 0.8, size / 2);
      const cx = opts.centred ? size / 2 + (g.random() - 0.5) * 4 : margin + g.random() * (size - 2 * margin);
      const cy = opts.centred ? size / 2 + (g.random() - 0.5) * 4 : margin + g.random() * (size - 2 * margin);
      o = { cls, colour, cx, cy, radius, visible: 0 };
      cover = rasterize(o, angle, aspect, size);
      const hidden = new Array<number>(objects.length).fill(0);
      for (let i = 0; i < plane; i++) if (cover[i] && instances[i] !== BACKGROUND) hidden[instances[i]]++;
      if (objects.every((p, j) => hidden[j] <= p.visible / 4)) break;
    }
    const obj = o!;
    const rgb = COLOURS[colour].rgb;
    const shade = 0.85 + 0.3 * g.random();
    for (let i = 0; i < plane; i++) {
      if (!cover[i]) continue;
      if (instances[i] !== BACKGROUND) objects[instances[i]].visible--;
      instances[i] = k;
      labels[i] = cls;
      obj.visible++;
      const x = i % size, y = Math.floor(i / size);
      const stripe = texture > 0 && Math.floor((x + y) / texture) % 2 === 0 ? -0.15 : 0;
      for (let c = 0; c < 3; c++) image[c * plane + i] = rgb[c] * shade + stripe + 0.04 * (g.random() - 0.5);
    }
    objects.push(obj);
  }
  for (let i = 0; i < image.length; i++) image[i] = Math.min(1, Math.max(0, image[i]));
  const plan: CaptionPlan = {
    template: g.int(0, 4),
    size: objects.map(() => g.random() < s.sizeWords),
    colour: objects.map(() => g.random() < s.colourWords),
  };
  const classes = objects.map((o) => o.cls);
  const swapAt = g.int(0, objects.length);
  const swapped = [...classes];
  swapped[swapAt] = (classes[swapAt] + 1 + g.int(0, WORLD_SHAPES.length - 1)) % WORLD_SHAPES.length;
  return {
    size, image, labels, instances, objects,
    caption: captionOf(objects, classes, plan, s),
    negative: captionOf(objects, swapped, plan, s),
  };
}

/** A reproducible list of scenes: scene i depends only on (seed, i). */
export function drawWorldScenes(seed: number, count: number, s: WorldSettings = WORLD_DEFAULTS, opts: DrawOptions = {}): WorldScene[] {
  return Array.from({ length: count }, (_, i) => drawWorldScene(sceneGenerator(seed, i), s, opts));
}

/** The generator of scene i of a seed's stream. */
export function sceneGenerator(seed: number, i: number): Generator {
  return new Generator(seed * 1_000_003 + i * 7919 + 17);
}
