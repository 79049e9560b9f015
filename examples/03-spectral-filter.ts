/**
 * Chapter 3 example: rfft2 / irfft2 on a patch grid, their adjoints, and a global filter, with a
 * picture of the spectrum before and after the filter. Run: `npx tsx examples/03-spectral-filter.ts [out-dir]`.
 *
 * Does: a 16x16 grid of one channel (a smooth blob plus a checkerboard, the highest frequency);
 * its half spectrum `rfft2` (engine/ops/fft.ts), the round trip through `irfft2`, the adjoint
 * identity <rfft2(x), g> = <x, rfft2ᵀ(g)> with rfft2ᵀ taken from autograd, Parseval's identity of
 * the 'ortho' norm, and a global filter: the spectrum times a complex weight (`complexMul`,
 * engine/functional/complex.ts), a Gaussian low-pass that removes the checkerboard, back through
 * irfft2, and the gradient a learnable weight would get. Writes `<out-dir>/03-spectrum.png`
 * (default docs/learn/images): grid | log |X| | log |X ⊙ W| | filtered grid.
 * Does not: SPT's spectral prompt itself (chapter 5, model/spt.ts), or time the kernels.
 *
 * Glossary: H, W grid height and width (16), Wf = W/2 + 1 half-spectrum width (9).
 */
import { join } from 'node:path';
import { complexMul, irfft2, noGrad, rfft2, setBackend, tensor, type Tensor } from '../engine/index.ts';
import { Parameter } from '../engine/nn/index.ts';
import { writePng } from '../engine/io/image.ts';

setBackend('cpu');
const OUT_DIR = process.argv[2] ?? 'docs/learn/images';
const H = 16, W = 16, Wf = W / 2 + 1;

// The grid: a smooth blob (low frequencies) plus a ±0.3 checkerboard (the bin h = H/2, k = W/2).
const grid = new Float64Array(H * W);
for (let i = 0; i < H; i++) {
  for (let j = 0; j < W; j++) {
    grid[i * W + j] = Math.exp(-((i - 6) ** 2 + (j - 9) ** 2) / 18) + 0.3 * ((i + j) % 2 === 0 ? 1 : -1);
  }
}
const x = tensor(grid, [H, W], { dtype: 'float64' }); // [H, W]
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const dot = (a: Tensor, b: Tensor) => a.mul(b).sum().item();

/** |X| per bin of a half spectrum [H, Wf, 2]. */
const magnitude = (X: Tensor): number[] => {
  const v = X.toArray();
  return Array.from({ length: H * Wf }, (_, i) => Math.hypot(v[2 * i], v[2 * i + 1]));
};

const X = noGrad(() => rfft2(x, { norm: 'ortho' })); // [H, Wf, 2]
console.log(`rfft2: grid [${x.shape.join(', ')}] -> half spectrum [${X.shape.join(', ')}] (real, imaginary last)`);
const back = noGrad(() => irfft2(X, [H, W], { norm: 'ortho' })); // [H, W]
console.log(`round trip irfft2(rfft2(x)): max |error| ${maxAbs(back.toArray(), grid).toExponential(2)}`);

// Parseval with 'ortho': Σ x² = Σ_k w_k |X_k|², w_k = 1 at k = 0 and W/2, 2 in between (the bins
// the half spectrum leaves out are the conjugates of those in between).
const mag = magnitude(X);
const energy = mag.reduce((s, m, i) => s + (i % Wf === 0 || i % Wf === Wf - 1 ? 1 : 2) * m * m, 0);
console.log(`Parseval (ortho): sum x^2 = ${grid.reduce((s, v) => s + v * v, 0).toFixed(6)}, spectrum energy = ${energy.toFixed(6)}`);

// The adjoint: the backward of rfft2 applied to g is rfft2ᵀ(g), so <rfft2(x), g> = <x, x.grad>.
const g = tensor(Float64Array.from({ length: H * Wf * 2 }, (_, i) => Math.sin(1.7 * i + 0.3)), [H, Wf, 2], { dtype: 'float64' });
const xl = new Parameter(tensor(grid, [H, W], { dtype: 'float64' })); // [H, W], a leaf that records its gradient
rfft2(xl, { norm: 'ortho' }).mul(g).sum().backward();
const lhs = noGrad(() => dot(rfft2(x, { norm: 'ortho' }), g)), rhs = dot(x, xl.grad!);
console.log(`adjoint: <rfft2 x, g> = ${lhs.toFixed(9)}, <x, rfft2^T g> = ${rhs.toFixed(9)}, |diff| ${Math.abs(lhs - rhs).toExponential(2)}`);

// A global filter: every bin scaled by a complex weight. Here a real Gaussian low-pass in the
// frequency of each bin (rows h and H − h are the same frequency with opposite sign).
const wData = new Float64Array(H * Wf * 2);
for (let h = 0; h < H; h++) {
  for (let k = 0; k < Wf; k++) {
    const fh = Math.min(h, H - h) / H, fk = k / W; // cycles per token, 0 .. 0.5
    wData[(h * Wf + k) * 2] = Math.exp(-(fh * fh + fk * fk) / (2 * 0.12 * 0.12)); // real part; imaginary 0
  }
}
const weight = new Parameter(tensor(wData, [H, Wf, 2], { dtype: 'float64' })); // [H, Wf, 2]
const filteredSpectrum = complexMul(rfft2(x, { norm: 'ortho' }), weight); // [H, Wf, 2]
const y = irfft2(filteredSpectrum, [H, W], { norm: 'ortho' }); // [H, W]
const checker = (v: Tensor) => Math.abs(v.toArray().reduce((s, a, i) => s + a * ((Math.floor(i / W) + i) % 2 === 0 ? 1 : -1), 0)) / (H * W);
console.log(`checkerboard amplitude: before ${checker(x).toFixed(4)}, after the low-pass ${checker(y).toFixed(4)}`);
const magAfter = magnitude(filteredSpectrum);
console.log(`|X| at the checkerboard bin (h ${H / 2}, k ${W / 2}): before ${mag[(H / 2) * Wf + W / 2].toFixed(4)}, after ${magAfter[(H / 2) * Wf + W / 2].toExponential(2)}`);

// The filter is learnable: a loss on the output gives the weight a gradient of its own shape.
y.mul(y).sum().backward();
console.log(`learnable filter: weight [${weight.shape.join(', ')}], grad [${weight.grad!.shape.join(', ')}]`);

// The picture: four 16x16 panels, each cell a ZOOM x ZOOM block, grey levels scaled per panel.
// The spectra are drawn with the zero frequency in the middle row (rows rolled by H/2), k to the right.
const roll = (m: number[]) => Array.from({ length: H * Wf }, (_, i) => m[((Math.floor(i / Wf) + H / 2) % H) * Wf + (i % Wf)]);
const logMag = (m: number[]) => roll(m).map((v) => Math.log10(v + 1e-3));
const panels: { w: number; v: number[]; lo?: number; hi?: number }[] = [
  { w: W, v: grid.slice() as unknown as number[] },
  { w: Wf, v: logMag(mag), lo: -3, hi: 1 },
  { w: Wf, v: logMag(magAfter), lo: -3, hi: 1 },
  { w: W, v: y.toArray() },
];
const ZOOM = 12, GAP = 6;
const width = panels.reduce((s, p) => s + p.w * ZOOM, 0) + (panels.length - 1) * GAP, height = H * ZOOM;
const rgb = new Uint8Array(width * height * 3).fill(160); // the gaps: mid grey
let left = 0;
for (const p of panels) {
  const vals = Array.from(p.v);
  const lo = p.lo ?? Math.min(...vals), hi = p.hi ?? Math.max(...vals);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < p.w * ZOOM; px++) {
      const v = vals[Math.floor(py / ZOOM) * p.w + Math.floor(px / ZOOM)];
      const grey = Math.round(255 * Math.min(1, Math.max(0, (v - lo) / (hi - lo))));
      const o = (py * width + left + px) * 3;
      rgb[o] = rgb[o + 1] = rgb[o + 2] = grey;
    }
  }
  left += p.w * ZOOM + GAP;
}
const path = join(OUT_DIR, '03-spectrum.png');
await writePng(path, { width, height, channels: 3, data: rgb });
console.log(`wrote ${path} (${width}x${height}): grid | log|X| | log|X * W| | filtered grid`);
