/**
 * A 5x7 bitmap font (with 2-row descenders: cells 5x9) for text drawn into RGB pixels: the titles, tick
 * labels and legends of the loss charts (plot.ts) and the row labels and class legend of the world's
 * samples.png (world/export.ts). ASCII letters, digits and the punctuation numbers and labels need
 * (. , - − + ( ) [ ] : / % = _ ' · × | ? ! * < >); any other character is drawn as '?'.
 *
 *   drawText(img, 'ground truth', 4, 10, [40, 40, 40], 2)     // top-left at (4, 10), each font pixel 2x2
 *   textWidth('ground truth', 2)                              // its width in pixels
 *   drawText(img, 'loss', 8, 200, ink, 2, true)               // rotated a quarter turn anticlockwise (reads upwards)
 *
 * Does not: kerning, anti-aliasing, or clipping other than at the image border.
 */
import type { RgbImage } from '../model/preprocess.ts';

/** Rows of the cell (7 above the baseline, 2 of descender) and columns of a glyph. */
export const FONT_ROWS = 9;
export const FONT_COLS = 5;
/** Rows above the baseline (capitals and digits). */
export const CAP_ROWS = 7;
/** Horizontal advance per character, in font pixels (the glyph and one blank column). */
export const ADVANCE = FONT_COLS + 1;

// Each glyph: one 5-bit row per line from the top (MSB = left column); missing rows are blank.
const GLYPHS: Record<string, readonly number[]> = {
  'A': [14, 17, 17, 31, 17, 17, 17], 'B': [30, 17, 17, 30, 17, 17, 30], 'C': [14, 17, 16, 16, 16, 17, 14], 'D': [30, 17, 17, 17, 17, 17, 30],
  'E': [31, 16, 16, 30, 16, 16, 31], 'F': [31, 16, 16, 30, 16, 16, 16], 'G': [14, 17, 16, 23, 17, 17, 15], 'H': [17, 17, 17, 31, 17, 17, 17],
  'I': [14, 4, 4, 4, 4, 4, 14], 'J': [7, 2, 2, 2, 2, 18, 12], 'K': [17, 18, 20, 24, 20, 18, 17], 'L': [16, 16, 16, 16, 16, 16, 31],
  'M': [17, 27, 21, 21, 17, 17, 17], 'N': [17, 17, 25, 21, 19, 17, 17], 'O': [14, 17, 17, 17, 17, 17, 14], 'P': [30, 17, 17, 30, 16, 16, 16],
  'Q': [14, 17, 17, 17, 21, 18, 13], 'R': [30, 17, 17, 30, 20, 18, 17], 'S': [15, 16, 16, 14, 1, 1, 30], 'T': [31, 4, 4, 4, 4, 4, 4],
  'U': [17, 17, 17, 17, 17, 17, 14], 'V': [17, 17, 17, 17, 17, 10, 4], 'W': [17, 17, 17, 21, 21, 21, 10], 'X': [17, 17, 10, 4, 10, 17, 17],
  'Y': [17, 17, 10, 4, 4, 4, 4], 'Z': [31, 1, 2, 4, 8, 16, 31], 'a': [0, 0, 14, 1, 15, 17, 15], 'b': [16, 16, 30, 17, 17, 17, 30],
  'c': [0, 0, 14, 16, 16, 16, 14], 'd': [1, 1, 15, 17, 17, 17, 15], 'e': [0, 0, 14, 17, 31, 16, 14], 'f': [6, 8, 8, 28, 8, 8, 8],
  'g': [0, 0, 15, 17, 17, 17, 15, 1, 14], 'h': [16, 16, 30, 17, 17, 17, 17], 'i': [4, 0, 12, 4, 4, 4, 14], 'j': [2, 0, 6, 2, 2, 2, 2, 18, 12],
  'k': [16, 16, 18, 20, 24, 20, 18], 'l': [12, 4, 4, 4, 4, 4, 14], 'm': [0, 0, 26, 21, 21, 21, 21], 'n': [0, 0, 30, 17, 17, 17, 17],
  'o': [0, 0, 14, 17, 17, 17, 14], 'p': [0, 0, 30, 17, 17, 17, 30, 16, 16], 'q': [0, 0, 15, 17, 17, 17, 15, 1, 1], 'r': [0, 0, 22, 25, 16, 16, 16],
  's': [0, 0, 15, 16, 14, 1, 30], 't': [8, 8, 28, 8, 8, 9, 6], 'u': [0, 0, 17, 17, 17, 17, 15], 'v': [0, 0, 17, 17, 17, 10, 4],
  'w': [0, 0, 17, 17, 21, 21, 10], 'x': [0, 0, 17, 10, 4, 10, 17], 'y': [0, 0, 17, 17, 17, 17, 15, 1, 14], 'z': [0, 0, 31, 2, 4, 8, 31],
  '0': [14, 17, 19, 21, 25, 17, 14], '1': [4, 12, 4, 4, 4, 4, 14], '2': [14, 17, 1, 2, 4, 8, 31], '3': [31, 2, 4, 2, 1, 17, 14],
  '4': [2, 6, 10, 18, 31, 2, 2], '5': [31, 16, 30, 1, 1, 17, 14], '6': [6, 8, 16, 30, 17, 17, 14], '7': [31, 1, 2, 4, 8, 8, 8],
  '8': [14, 17, 17, 14, 17, 17, 14], '9': [14, 17, 17, 15, 1, 2, 12], '.': [0, 0, 0, 0, 0, 12, 12], ',': [0, 0, 0, 0, 0, 12, 4, 8],
  '-': [0, 0, 0, 14], '−': [0, 0, 0, 31], '+': [0, 4, 4, 31, 4, 4], '(': [2, 4, 8, 8, 8, 4, 2],
  ')': [8, 4, 2, 2, 2, 4, 8], '[': [14, 8, 8, 8, 8, 8, 14], ']': [14, 2, 2, 2, 2, 2, 14], ':': [0, 12, 12, 0, 12, 12],
  '/': [1, 1, 2, 4, 8, 16, 16], '%': [24, 25, 2, 4, 8, 19, 3], '=': [0, 0, 31, 0, 31], '_': [0, 0, 0, 0, 0, 0, 0, 31],
  "'": [4, 4, 8], '·': [0, 0, 0, 4], '×': [0, 17, 10, 4, 10, 17], '|': [4, 4, 4, 4, 4, 4, 4],
  '?': [14, 17, 1, 2, 4, 0, 4], '!': [4, 4, 4, 4, 4, 0, 4], '*': [0, 4, 21, 14, 21, 4], '<': [2, 4, 8, 16, 8, 4, 2],
  '>': [8, 4, 2, 1, 2, 4, 8],
};

/**
 * Width in pixels of `s` drawn at `scale` (no trailing blank column).
 *
 * @example
 * textWidth('step', 2);   // 4 · 6 · 2 − 2 = 46
 */
export function textWidth(s: string, scale = 1): number {
  const n = [...s].length;
  return n === 0 ? 0 : (n * ADVANCE - 1) * scale;
}

/**
 * Draw `s` into `img` with its top-left corner at (x, y) (with `vertical`: its bottom-left corner, the
 * text reading upwards), each font pixel a `scale`x`scale` block of `colour`.
 *
 * @example
 * drawText(img, 'prediction', 2, 2, [0, 0, 0], 2);
 */
export function drawText(img: RgbImage, s: string, x: number, y: number, colour: readonly number[], scale = 1, vertical = false): void {
  [...s].forEach((ch, k) => {
    const rows = GLYPHS[ch] ?? (ch === ' ' ? [] : GLYPHS['?']);
    rows.forEach((bits, r) => {
      for (let col = 0; col < FONT_COLS; col++) {
        if (!(bits & (16 >> col))) continue;
        const u = (k * ADVANCE + col) * scale, v = r * scale; // along the text, down the glyph
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            if (vertical) put(img, x + v + dy, y - u - dx, colour);
            else put(img, x + u + dx, y + v + dy, colour);
          }
        }
      }
    });
  });
}

function put(img: RgbImage, px: number, py: number, c: readonly number[]): void {
  if (px < 0 || py < 0 || px >= img.width || py >= img.height) return;
  const o = (py * img.width + px) * 3;
  img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2];
}
