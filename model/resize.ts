/**
 * mmseg's test-time resize, shared by the data pipeline (train/data/augment.ts, which re-exports it)
 * and the one inference path (model/segment-image.ts `segmentImage`): the keep-ratio size
 * (mmcv.rescale_size, mmseg Resize(keep_ratio, min_size)) and cv2's INTER_LINEAR on HWC uint8 pixels.
 * No imports, so a loader's worker thread and the web page take it without the engine or Node.
 *
 * Glossary: H, W input size; h, w resized size; C channels.
 */

/**
 * mmcv.rescale_size: the keep-ratio size [h, w] fitting (long, short) = scale.
 *
 * @example
 * rescaleSize(375, 500, [2048, 512]);   // [512, 683]
 */
export function rescaleSize(height: number, width: number, scale: readonly [number, number]): [number, number] {
  const longEdge = Math.max(...scale);
  const shortEdge = Math.min(...scale);
  const factor = Math.min(longEdge / Math.max(height, width), shortEdge / Math.min(height, width));
  return [Math.trunc(height * factor + 0.5), Math.trunc(width * factor + 0.5)];
}

/** Bilinear resize of HWC uint8 pixels (cv2 INTER_LINEAR geometry), rounded to the nearest level. */
export function resizeBilinear(src: Uint8Array | Uint8ClampedArray, H: number, W: number, C: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w * C);
  const taps = (n: number, m: number) => {
    const i0 = new Int32Array(m), i1 = new Int32Array(m), f = new Float64Array(m);
    for (let d = 0; d < m; d++) {
      let s = (d + 0.5) * (n / m) - 0.5;
      if (s < 0) s = 0;
      let i = Math.floor(s);
      let frac = s - i;
      if (i >= n - 1) { i = n - 1; frac = 0; }
      i0[d] = i; i1[d] = Math.min(i + 1, n - 1); f[d] = frac;
    }
    return { i0, i1, f };
  };
  const ys = taps(H, h);
  const xs = taps(W, w);
  for (let y = 0; y < h; y++) {
    const r0 = ys.i0[y] * W, r1 = ys.i1[y] * W, fy = ys.f[y];
    for (let x = 0; x < w; x++) {
      const c0 = xs.i0[x], c1 = xs.i1[x], fx = xs.f[x];
      for (let c = 0; c < C; c++) {
        const top = src[(r0 + c0) * C + c] * (1 - fx) + src[(r0 + c1) * C + c] * fx;
        const bottom = src[(r1 + c0) * C + c] * (1 - fx) + src[(r1 + c1) * C + c] * fx;
        out[(y * w + x) * C + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

/**
 * The test-time size (mmseg Resize(keep_ratio=True, min_size)): with minSize, the short side becomes
 * max(short target, minSize) and the long side follows the aspect ratio, with no 2048 cap (mmseg
 * rewrites the scale before mmcv.imrescale); with minSize null, plain rescale_size to imgScale.
 *
 * @example
 * testResizeSize(375, 500);   // [512, 683]
 */
export function testResizeSize(height: number, width: number, imgScale: readonly [number, number] = [2048, 512], minSize: number | null = 512): [number, number] {
  if (minSize === null) return rescaleSize(height, width, imgScale);
  const short = Math.max(Math.min(...imgScale), minSize);
  const scale: [number, number] = height > width ? [(short * height) / width, short] : [short, (short * width) / height];
  return rescaleSize(height, width, scale);
}
