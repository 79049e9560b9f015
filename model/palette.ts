/**
 * The class colours: one palette for every picture of a segmentation, so a class has the same colour
 * in `spt-seg segment`'s mask, overlay and legend, `spt-seg eval`'s samples, the world report and
 * samples.png (train/world/report.ts, export.ts) and the web page's canvas and legend (page/view.ts).
 *
 *   classColour(c)      [r, g, b] of class c (0-based train id)
 *   classPalette()      768 bytes for a palette PNG: entry c = classColour(c), entry 255 = background
 *   BACKGROUND_COLOUR   black: background / ignored pixels (label 255) in masks
 *
 * The first 20 are Sasha Trubetskoy's "20 simple, distinct colours" (bright enough for the world's dark
 * backgrounds, and told apart by most colour-blind readers for the first dozen); classes 20 and up
 * take the PASCAL VOC colour map's entries from 1 on, skipping the four the first 20 already use, so
 * no two of the 255 class colours are the same and none is black.
 * Browser-safe: no imports.
 */

/** An RGB triple, 0..255. */
export type Rgb = readonly [number, number, number];

/** The distinct colours of the first 20 classes (then VOC's colour map). */
export const CLASS_COLOURS: readonly Rgb[] = [
  [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
  [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255],
  [170, 110, 40], [255, 250, 200], [128, 0, 0], [170, 255, 195], [128, 128, 0], [255, 215, 180],
  [0, 0, 128], [128, 128, 128],
];

/** Background / ignored pixels (label 255) in a mask: black. */
export const BACKGROUND_COLOUR: Rgb = [0, 0, 0];

/** VOCdevkit's labelcolormap entry i. */
function vocColour(i: number): Rgb {
  let r = 0, g = 0, b = 0, c = i;
  for (let j = 0; j < 8; j++) {
    r |= ((c >> 0) & 1) << (7 - j);
    g |= ((c >> 1) & 1) << (7 - j);
    b |= ((c >> 2) & 1) << (7 - j);
    c >>= 3;
  }
  return [r, g, b];
}

/** The 255 class colours: the 20 above, then VOC's entries 1, 2, ... not already among them. */
const TABLE: readonly Rgb[] = (() => {
  const out = [...CLASS_COLOURS];
  const taken = new Set(out.map(String));
  for (let i = 1; out.length < 255; i++) {
    const c = vocColour(i);
    if (!taken.has(String(c))) out.push(c);
  }
  return out;
})();

/**
 * The colour of class `c` (0-based, at most 254: 255 is background).
 *
 * @example
 * classColour(0);   // [230, 25, 75]
 */
export function classColour(c: number): Rgb {
  if (!Number.isInteger(c) || c < 0 || c > 254) throw new Error(`classColour: class ${c} is not an integer in 0..254`);
  return TABLE[c];
}

/**
 * A 256-entry palette (768 bytes) for label PNGs: entry c = classColour(c), entry 255 = BACKGROUND_COLOUR.
 *
 * @example
 * encodeLabelPng({ width, height, data: labels }, classPalette());
 */
export function classPalette(): Uint8Array {
  const pal = new Uint8Array(768);
  for (let c = 0; c < 255; c++) pal.set(classColour(c), 3 * c);
  pal.set(BACKGROUND_COLOUR, 3 * 255);
  return pal;
}

/**
 * 'rgb(r,g,b)' of class c, for HTML and legends.
 *
 * @example
 * cssColour(1);   // 'rgb(60,180,75)'
 */
export function cssColour(c: number): string {
  return `rgb(${classColour(c).join(',')})`;
}
