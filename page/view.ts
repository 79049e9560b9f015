/**
 * Drawing for the web page: an image [3, S, S] in [0, 1] scaled up on a canvas, the colour mask
 * blended over it, and the legend (colour, class, seen / unseen, share of pixels).
 *
 * Does not: run the model (pipeline.ts) or handle events (main.ts).
 */

/** One colour per class (Tableau-like, readable on the world's dark backgrounds); repeats after 16. */
export const CLASS_COLOURS: readonly (readonly [number, number, number])[] = [
  [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
  [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255],
  [170, 110, 40], [255, 250, 200], [128, 0, 0], [170, 255, 195],
];

export function colourOf(c: number): readonly [number, number, number] {
  return CLASS_COLOURS[c % CLASS_COLOURS.length];
}

/**
 * Draw `pixels` (planar [3, S, S], values in [0, 1]) on `canvas`, and when `labels` ([S·S]) is
 * given, blend each class's colour over it with weight `alpha` (background, −1, is left as it is).
 */
export function drawImage(canvas: HTMLCanvasElement, pixels: Float32Array, S: number, labels: Int32Array | null = null, alpha = 0.55): void {
  const small = document.createElement('canvas');
  small.width = S;
  small.height = S;
  const ctx = small.getContext('2d')!;
  const img = ctx.createImageData(S, S);
  for (let p = 0; p < S * S; p++) {
    for (let ch = 0; ch < 3; ch++) {
      let v = Math.min(1, Math.max(0, pixels[ch * S * S + p])) * 255;
      if (labels && labels[p] >= 0) v = (1 - alpha) * v + alpha * colourOf(labels[p])[ch];
      img.data[4 * p + ch] = Math.round(v);
    }
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  const out = canvas.getContext('2d')!;
  out.imageSmoothingEnabled = false; // show the model's pixels as they are
  out.clearRect(0, 0, canvas.width, canvas.height);
  out.drawImage(small, 0, 0, canvas.width, canvas.height);
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
    swatch.style.background = `rgb(${colourOf(c).join(',')})`;
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
