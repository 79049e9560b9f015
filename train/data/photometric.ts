/**
 * mmseg's PhotoMetricDistortion steps on 8-bit RGB pixels, in place (augment.ts draws the randomness).
 *
 * Does: `convertPixels` (mmseg `convert`: x·alpha + beta, clipped to 0..255, truncated to uint8; used for
 *   brightness and contrast), `adjustSaturation` and `adjustHue` in OpenCV's 8-bit HSV (H in 0..179 =
 *   degrees / 2, S and V in 0..255), converting RGB -> HSV -> RGB as cv2.cvtColor does for uint8.
 * Does not: match cv2's table-driven integer HSV rounding bit for bit (values may differ by 1).
 */

/** x <- uint8(clip(x·alpha + beta, 0, 255)), truncating like numpy's astype(uint8). */
export function convertPixels(px: Uint8Array, alpha: number, beta: number): void {
  for (let i = 0; i < px.length; i++) px[i] = Math.trunc(Math.min(255, Math.max(0, px[i] * alpha + beta)));
}

/** OpenCV 8-bit RGB -> HSV of one pixel: [H 0..180, S 0..255, V 0..255] (rounded). */
export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const v = Math.max(r, g, b);
  const diff = v - Math.min(r, g, b);
  const s = v === 0 ? 0 : Math.round((255 * diff) / v);
  let h = 0;
  if (diff !== 0) {
    if (v === r) h = (60 * (g - b)) / diff;
    else if (v === g) h = 120 + (60 * (b - r)) / diff;
    else h = 240 + (60 * (r - g)) / diff;
    if (h < 0) h += 360;
  }
  return [Math.round(h / 2), s, v];
}

/** OpenCV 8-bit HSV -> RGB of one pixel (H in degrees / 2). */
export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const sat = s / 255;
  const hh = ((h * 2) % 360) / 60; // sector 0..6
  const sector = Math.floor(hh);
  const f = hh - sector;
  const p = v * (1 - sat), q = v * (1 - sat * f), t = v * (1 - sat * (1 - f));
  const rgb: [number, number, number][] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]];
  const [r, g, b] = rgb[sector % 6];
  return [Math.round(r), Math.round(g), Math.round(b)];
}

function mapHsv(px: Uint8Array, fn: (hsv: [number, number, number]) => [number, number, number]): void {
  for (let i = 0; i < px.length; i += 3) {
    const [r, g, b] = hsvToRgb(...fn(rgbToHsv(px[i], px[i + 1], px[i + 2])));
    px[i] = r; px[i + 1] = g; px[i + 2] = b;
  }
}

/** S <- uint8(clip(S·alpha, 0, 255)) in HSV (mmseg `saturation`). */
export function adjustSaturation(px: Uint8Array, alpha: number): void {
  mapHsv(px, ([h, s, v]) => [h, Math.trunc(Math.min(255, Math.max(0, s * alpha))), v]);
}

/** H <- (H + delta) mod 180 in HSV (mmseg `hue`). */
export function adjustHue(px: Uint8Array, delta: number): void {
  mapHsv(px, ([h, s, v]) => [(((h + delta) % 180) + 180) % 180, s, v]);
}
