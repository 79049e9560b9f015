/**
 * Write world scenes as a generic segmentation folder (the layout the folder-dataset reader takes):
 *
 *   out/images/NAME.png      RGB scene
 *   out/masks/NAME.png       palette PNG of class ids (index = class, 255 = background / ignore)
 *   out/class_names.txt      one class name per line, line i = class id i
 *   out/captions.jsonl       {"name", "caption", "negative", "objects": [class ids]} per line
 *   out/splits.json          {"seen": [...names], "unseen": [...names], "seen_ids", "unseen_ids"}
 *
 * and the README's grid (`worldGrid`): scenes above their masks. Every file is written atomically.
 * Does not: draw scenes (scenes.ts) or read the folder back (train/data's reader does).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/io/files.ts';
import { encodeLabelPng, encodePng, vocPalette } from '../../engine/io/image.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from './classes.ts';
import type { WorldScene } from './scenes.ts';

/** 8-bit RGB bytes [H, W, 3] of a scene's [3, H, W] float image. */
export function sceneRgb(scene: WorldScene): Uint8Array {
  const { size, image } = scene;
  const plane = size * size;
  const out = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(255 * image[c * plane + i]);
  return out;
}

/** Scene names in the folder: scene_000000.png, ... */
export function sceneName(i: number): string {
  return `scene_${String(i).padStart(6, '0')}`;
}

/** Write `scenes` under `outDir` in the layout above. */
export async function writeWorldFolder(outDir: string, scenes: readonly WorldScene[]): Promise<void> {
  await mkdir(join(outDir, 'images'), { recursive: true });
  await mkdir(join(outDir, 'masks'), { recursive: true });
  const lines: string[] = [];
  for (const [i, sc] of scenes.entries()) {
    const name = sceneName(i);
    await writeFileAtomic(join(outDir, 'images', `${name}.png`), encodePng({ width: sc.size, height: sc.size, channels: 3, data: sceneRgb(sc) }));
    await writeFileAtomic(join(outDir, 'masks', `${name}.png`), encodeLabelPng({ width: sc.size, height: sc.size, data: sc.labels }));
    lines.push(JSON.stringify({ name, caption: sc.caption, negative: sc.negative, objects: sc.objects.map((o) => o.cls) }));
  }
  await writeFileAtomic(join(outDir, 'class_names.txt'), WORLD_CLASS_NAMES.join('\n') + '\n');
  await writeFileAtomic(join(outDir, 'captions.jsonl'), lines.join('\n') + '\n');
  const splits = {
    seen: DEFAULT_SPLIT.seen.map((i) => WORLD_CLASS_NAMES[i]), unseen: DEFAULT_SPLIT.unseen.map((i) => WORLD_CLASS_NAMES[i]),
    seen_ids: [...DEFAULT_SPLIT.seen], unseen_ids: [...DEFAULT_SPLIT.unseen],
  };
  await writeFileAtomic(join(outDir, 'splits.json'), JSON.stringify(splits, null, 2) + '\n');
}

/**
 * A PNG grid: `cols` scenes per row at `scale`x, each above its mask in VOC colours (black = background).
 * With `preds` (one label map per scene), a third picture below each: the prediction on the pixels
 * that are scored (the ground truth's background stays black, as the metrics never see it).
 */
export function worldGrid(scenes: readonly WorldScene[], cols = 6, scale = 2, preds?: readonly Uint8Array[]): Uint8Array {
  const S = scenes[0].size * scale, pad = 4, tiles = preds ? 3 : 2;
  const rows = Math.ceil(scenes.length / cols);
  const width = cols * (S + pad) + pad, height = rows * (tiles * S + 2 * pad) + pad;
  const data = new Uint8Array(width * height * 3).fill(255);
  const palette = vocPalette();
  scenes.forEach((sc, k) => {
    const ox = pad + (k % cols) * (S + pad), oy = pad + Math.floor(k / cols) * (tiles * S + 2 * pad);
    const rgb = sceneRgb(sc);
    const put = (tile: number, x: number, y: number, c: number, v: number): void => { data[((oy + tile * S + y) * width + ox + x) * 3 + c] = v; };
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = Math.floor(y / scale) * sc.size + Math.floor(x / scale);
        const label = sc.labels[i];
        const pred = label === 255 || !preds ? 255 : preds[k][i];
        for (let c = 0; c < 3; c++) {
          put(0, x, y, c, rgb[i * 3 + c]);
          put(1, x, y, c, label === 255 ? 0 : palette[(label + 1) * 3 + c]);
          if (preds) put(2, x, y, c, pred === 255 ? 0 : palette[(pred + 1) * 3 + c]);
        }
      }
    }
  });
  return encodePng({ width, height, channels: 3, data });
}
