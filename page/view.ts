/**
 * Drawing for the web page: an 8-bit RGB image scaled on a canvas (its aspect ratio kept), the class
 * colours blended over it, and the legend (colour, class, seen / unseen, share of pixels). The colours
 * are model/palette.ts's, the same in `spt-seg segment`'s overlay and legend, the world report and samples.png.
 *
 * Does not: run the model (pipeline.ts) or handle events (main.ts).
 */
import { classColour, cssColour } from '../model/palette.ts';
import type { RgbImage } from '../model/preprocess.ts';

/** The canvas' longer side, in CSS and canvas pixels. */
export const VIEW_SIDE = 384;

/**
 * Draw `img` on `canvas` (resized to VIEW_SIDE on its longer side, the aspect ratio kept), and when
 * `labels` ([H·W]) is given, blend each class's colour over it with weight `alpha` (background, −1,
 * is left as it is).
 */
export function drawImage(canvas: HTMLCanvasElement, img: RgbImage, labels: Int32Array | null = null, alpha = 0.55): void {
  const { width: W, height: H, channels: C, data } = img;
  const small = document.createElement('canvas');
  small.width = W;
  small.height = H;
  const ctx = small.getContext('2d')!;
  const out = ctx.createImageData(W, H);
  for (let p = 0; p < W * H; p++) {
    const colour = labels && labels[p] >= 0 ? classColour(labels[p]) : null;
    for (let ch = 0; ch < 3; ch++) {
      const v = data[p * C + ch];
      out.data[4 * p + ch] = colour ? Math.round((1 - alpha) * v + alpha * colour[ch]) : v;
    }
    out.data[4 * p + 3] = 255;
  }
  ctx.putImageData(out, 0, 0);
  const scale = VIEW_SIDE / Math.max(W, H);
  canvas.width = Math.max(1, Math.round(W * scale));
  canvas.height = Math.max(1, Math.round(H * scale));
  canvas.style.width = `${canvas.width}px`;
  canvas.style.height = `${canvas.height}px`;
  const view = canvas.getContext('2d')!;
  view.imageSmoothingEnabled = false; // show the model's pixels as they are
  view.drawImage(small, 0, 0, canvas.width, canvas.height);
}

export interface LegendRow {
  name: string;
  seen: boolean;
  share: number | null;
}

/** The legend: one row per class, largest share first when shares are known. */
export function renderLegend(list: HTMLElement, rows: readonly LegendRow[]): void {
  const order = rows.map((r, c) => ({ ...r, c }));
  if (rows.every((r) => r.share !== null)) order.sort((a, b) => (b.share ?? 0) - (a.share ?? 0));
  list.replaceChildren(...order.map(({ name, seen, share, c }) => {
    const li = document.createElement('li');
    li.dataset.class = name;
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = cssColour(c);
    const label = document.createElement('span');
    label.className = 'name';
    label.textContent = name;
    const tag = document.createElement('span');
    tag.className = seen ? 'tag seen' : 'tag unseen';
    tag.textContent = seen ? 'seen' : 'unseen';
    tag.title = seen ? 'trained on (gets the seen-class offset)' : 'never in training: segmented from its name alone';
    const pct = document.createElement('span');
    pct.className = 'share';
    pct.textContent = share === null ? '' : `${(100 * share).toFixed(1)} %`;
    li.append(swatch, label, tag, pct);
    return li;
  }));
}
