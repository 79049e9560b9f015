/**
 * Write world scenes as a generic segmentation folder (the layout the folder-dataset reader takes):
 *
 *   out/images/NAME.png      RGB scene
 *   out/masks/NAME.png       palette PNG of class ids (index = class, 255 = background / ignore)
 *   out/class_names.txt      one class name per line, line i = class id i
 *   out/captions.jsonl       {"name", "caption", "negative", "objects": [class ids]} per line
 *   out/splits.json          {"seen": [...names], "unseen": [...names], "seen_ids", "unseen_ids"}
 *
 * and the README's grid (`worldGrid`): scenes above their masks (and predictions), each row of
 * pictures labelled, with a legend of the class colours (model/palette.ts: the colours of the report,
 * the web page and `spt-seg segment`). Every file is written atomically.
 * Does not: draw scenes (scenes.ts) or read the folder back (train/data's reader does).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../engine/io/files.ts';
import { encodeLabelPng, encodePng } from '../../engine/io/image.ts';
import { BACKGROUND_COLOUR, classColour, classPalette } from '../../model/palette.ts';
import type { RgbImage } from '../../model/preprocess.ts';
import { rgbFromPlanar } from '../../model/segment-image.ts';
import { drawText, FONT_ROWS, textWidth } from '../bitmap-font.ts';
import { DEFAULT_SPLIT, WORLD_CLASS_NAMES } from './classes.ts';
import type { WorldScene } from './scenes.ts';

/** 8-bit RGB bytes [H, W, 3] of a scene's [3, H, W] float image (model/segment-image.ts `rgbFromPlanar`, as the page does). */
export function sceneRgb(scene: WorldScene): Uint8Array {
  return rgbFromPlanar(scene.image, scene.size, scene.size).data as Uint8Array;
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
    await writeFileAtomic(join(outDir, 'masks', `${name}.png`), encodeLabelPng({ width: sc.size, height: sc.size, data: sc.labels }, classPalette()));
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

/** What `worldGrid` labels: the class names (palette order) and which are unseen (marked * in the legend). */
export interface GridLegend {
  classNames: readonly string[];
  unseenIds: readonly number[];
}

/** The row labels of the grid's picture rows, top to bottom. */
export const GRID_ROWS = ['image', 'ground truth', 'prediction'] as const;

/**
 * Where `worldGrid` puts things: the image size, the top-left pixel of scene k's tile t (0 image,
 * 1 ground truth, 2 prediction), the row-label column's width and the legend's top.
 */
export function worldGridLayout(n: number, cols: number, size: number, scale: number, tiles: number, legend: GridLegend) {
  const S = size * scale, pad = 4, ts = Math.max(1, scale), lineH = FONT_ROWS * ts;
  const labelW = Math.max(...GRID_ROWS.slice(0, tiles).map((r) => textWidth(r, ts))) + 2 * pad;
  const rows = Math.ceil(n / cols);
  const width = labelW + cols * (S + pad) + pad;
  const entries = legendEntries(legend);
  const swatch = lineH, itemW = (e: string) => swatch + pad + textWidth(e, ts) + 3 * pad;
  // Legend items flow left to right, wrapping at the image width.
  const items: { x: number; row: number; text: string; colour: readonly number[] }[] = [];
  let x = pad, row = 0;
  for (const e of entries) {
    if (x > pad && x + itemW(e.text) > width) { x = pad; row++; }
    items.push({ x, row, text: e.text, colour: e.colour });
    x += itemW(e.text);
  }
  const gridH = rows * (tiles * S + 2 * pad) + pad;
  const legendTop = gridH + pad, legendRowH = lineH + pad;
  const note = wrapWords(`${legend.unseenIds.length ? '* unseen: never in training. ' : ''}Background is not scored.`, Math.floor((width - 2 * pad) / (6 * ts)));
  const height = legendTop + (row + 1 + note.length) * legendRowH + pad; // the items, then the note
  return {
    width, height, S, pad, ts, lineH, labelW, legendTop, legendRowH, items, note,
    tile: (k: number, t: number): [number, number] => [labelW + (k % cols) * (S + pad), pad + Math.floor(k / cols) * (tiles * S + 2 * pad) + t * S],
    rowTop: (r: number): number => pad + r * (tiles * S + 2 * pad),
  };
}

/** `text` in lines of at most `chars` characters, broken at spaces. */
function wrapWords(text: string, chars: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && last.length + 1 + word.length <= chars) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

function legendEntries(legend: GridLegend): { text: string; colour: readonly number[] }[] {
  const unseen = new Set(legend.unseenIds);
  return [
    ...legend.classNames.map((name, c) => ({ text: `${name}${unseen.has(c) ? '*' : ''}`, colour: classColour(c) })),
    { text: 'background', colour: BACKGROUND_COLOUR },
  ];
}

/**
 * A PNG grid: `cols` scenes per row at `scale`x, each above its mask in the class colours (black =
 * background), each row of pictures labelled on the left (image / ground truth / prediction), and a
 * legend of the class colours below (unseen classes starred). With `preds` (one label map per scene),
 * a third picture below each: the prediction on the pixels that are scored (the ground truth's
 * background stays black, as the metrics never see it).
 */
export function worldGrid(
  scenes: readonly WorldScene[], cols = 6, scale = 2, preds?: readonly Uint8Array[],
  legend: GridLegend = { classNames: WORLD_CLASS_NAMES, unseenIds: DEFAULT_SPLIT.unseen },
): Uint8Array {
  const tiles = preds ? 3 : 2;
  const L = worldGridLayout(scenes.length, cols, scenes[0].size, scale, tiles, legend);
  const { width, height, S } = L;
  const img: RgbImage = { width, height, channels: 3, data: new Uint8Array(width * height * 3).fill(255) };
  const data = img.data;
  const ink = [40, 40, 40];
  scenes.forEach((sc, k) => {
    const rgb = sceneRgb(sc);
    const put = (tile: number, x: number, y: number, c: number, v: number): void => {
      const [ox, oy] = L.tile(k, tile);
      data[((oy + y) * width + ox + x) * 3 + c] = v;
    };
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = Math.floor(y / scale) * sc.size + Math.floor(x / scale);
        const label = sc.labels[i];
        const pred = label === 255 || !preds ? 255 : preds[k][i];
        const truthRgb = label === 255 ? BACKGROUND_COLOUR : classColour(label);
        const predRgb = pred === 255 ? BACKGROUND_COLOUR : classColour(pred);
        for (let c = 0; c < 3; c++) {
          put(0, x, y, c, rgb[i * 3 + c]);
          put(1, x, y, c, truthRgb[c]);
          if (preds) put(2, x, y, c, predRgb[c]);
        }
      }
    }
  });
  // Row labels, centred on their tiles.
  for (let r = 0; r * cols < scenes.length; r++) {
    for (let t = 0; t < tiles; t++) {
      const y = L.rowTop(r) + t * S + Math.round((S - L.lineH) / 2);
      drawText(img, GRID_ROWS[t], L.labelW - L.pad - textWidth(GRID_ROWS[t], L.ts), y, ink, L.ts);
    }
  }
  // The legend: a swatch and a name per class, then the note.
  for (const it of L.items) {
    const y = L.legendTop + it.row * L.legendRowH;
    for (let dy = 0; dy < L.lineH; dy++) {
      for (let dx = 0; dx < L.lineH; dx++) {
        const o = ((y + dy) * width + it.x + dx) * 3;
        const edge = dx === 0 || dy === 0 || dx === L.lineH - 1 || dy === L.lineH - 1;
        for (let c = 0; c < 3; c++) data[o + c] = edge ? 120 : it.colour[c];
      }
    }
    drawText(img, it.text, it.x + L.lineH + L.pad, y + Math.round(L.ts), ink, L.ts);
  }
  const rowsUsed = L.items.length ? L.items[L.items.length - 1].row + 1 : 0;
  L.note.forEach((line, k) => drawText(img, line, L.pad, L.legendTop + (rowsUsed + k) * L.legendRowH, ink, L.ts));
  return encodePng(img);
}
