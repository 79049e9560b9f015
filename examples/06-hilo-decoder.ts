/**
 * Chapter 6 example: SPT's spectral guided decoder on a 7x7 patch grid, with a picture of the
 * windows and pooled cells and of one layer's attention. Run: `npx tsx examples/06-hilo-decoder.ts [out-dir]`.
 *
 * Does: a dense map of unit vectors (class 0 in a disc, class 1 elsewhere, plus noise), padded
 * to 9x9 (`padTo`), cut into 3x3 windows (`windowPartition` / `windowReverse`,
 * engine/functional/window.ts) and pooled to 3x3 cells (`avgPool2d`, engine/functional/pool.ts),
 * the Hi-Fi / Lo-Fi head split of `HiLo` (model/hilo.ts), one token's Lo-Fi attention over the
 * pooled cells recomputed from the layer's own weights, and `DecodeHead` (model/decoder.ts): the
 * class queries, each layer's mask logits and the readout attention. Writes
 * `<out-dir>/06-hilo.png` (default docs/learn/images): windows on the padded grid | the token's
 * Lo-Fi attention over the 9 pooled cells | layer 0's readout attention of class 0.
 * Does not: train (random weights: the attention shows the mechanics, not a learned pattern).
 *
 * Glossary: B batch (1), C classes (3), E = D width (16), gh x gw grid (7x7), Hp x Wp padded grid
 * (9x9), ws window side (3), M windows = pooled cells (9), N = gh·gw tokens (49), d head width (2).
 */
import { join } from 'node:path';
import {
  avgPool2d, manualSeed, noGrad, normalize, padTo, randn, setBackend, softmax, tensor, windowPartition, windowReverse,
} from '../engine/index.ts';
import { writePng } from '../engine/io/image.ts';
import { DecodeHead } from '../model/index.ts';

setBackend('cpu');
manualSeed(0);
const OUT_DIR = process.argv[2] ?? 'docs/learn/images';
const G = 7, E = 16, C = 3;
const head = new DecodeHead({ embedDim: E, width: E, layers: 2, ffn: 32 }).eval();
const hilo = head.decoder_1.layers.at(0).hlfs!;

// Class text embeddings and a dense map whose tokens lean towards class 0 inside a disc.
const text = normalize(randn([C, E]), { dim: 1 }); // [C, E]
const t = text.toArray();
const inDisc = (i: number, j: number) => Math.hypot(i - 2.5, j - 3.5) < 2.3;
const denseData = new Float64Array(E * G * G);
const noise = randn([E, G, G]).mul(0.3).toArray();
for (let e = 0; e < E; e++) for (let p = 0; p < G * G; p++) {
  const c = inDisc(Math.floor(p / G), p % G) ? 0 : 1;
  denseData[e * G * G + p] = t[c * E + e] + noise[e * G * G + p];
}
const dense = normalize(tensor(denseData, [1, E, G, G]), { dim: 1 }); // [B, E, gh, gw]
const global = normalize(dense.mean([2, 3]), { dim: 1 }); // [B, E]

noGrad(() => {
  const x = dense.permute([0, 2, 3, 1]); // [B, gh, gw, E], channels last
  const xp = padTo(x, [1, 2], hilo.ws); // [B, Hp, Wp, E]
  const win = windowPartition(xp, hilo.ws); // [B·M, ws, ws, E]
  const pooled = avgPool2d(xp.permute([0, 3, 1, 2]), hilo.ws); // [B, E, Hp/ws, Wp/ws]
  console.log(`grid ${G}x${G} padded to ${xp.shape[1]}x${xp.shape[2]}: ${win.shape[0]} windows [${win.shape.join(', ')}], pooled cells [${pooled.shape.join(', ')}]`);
  const back = windowReverse(win, hilo.ws, G, G).toArray(), orig = x.toArray();
  console.log(`windowReverse(windowPartition(x)): max |diff| ${back.reduce((m, v, i) => Math.max(m, Math.abs(v - orig[i])), 0)}`);
  const M = win.shape[0], W2 = hilo.ws * hilo.ws, N = G * G;
  console.log(`heads ${hilo.heads}: Hi-Fi ${hilo.hHeads} (window attention), Lo-Fi ${hilo.lHeads} (pooled attention), head width ${hilo.headDim}`);
  console.log(`scores per head: Hi-Fi ${M} windows x ${W2} x ${W2} = ${M * W2 * W2}, Lo-Fi ${N} x ${M} = ${N * M}, full attention ${N} x ${N} = ${N * N}`);

  // One token's Lo-Fi attention, as HiLo.loFi computes it: q from l_q, keys from l_kv of the pooled map.
  const [qi, qj] = [2, 5], lh = hilo.lHeads, d = hilo.headDim;
  const memory = dense.reshape([1, E, N]).permute([0, 2, 1]); // [B, N, E]
  const q = hilo.l_q.forward(memory.slice(1, qi * G + qj, qi * G + qj + 1)).reshape([lh, 1, d]); // [lh, 1, d]
  const kv = hilo.l_kv.forward(pooled.reshape([1, E, M]).permute([0, 2, 1])).reshape([M, 2, lh, d]); // [M, 2, lh, d]
  const k = kv.slice(1, 0, 1).reshape([M, lh, d]).permute([1, 0, 2]); // [lh, M, d]
  const lofi = softmax(q.matmul(k.transpose(1, 2)).mul(1 / Math.sqrt(d)), -1).mean(0).reshape([M]).toArray(); // [M], mean over heads
  console.log(`Lo-Fi attention of token (${qi}, ${qj}) over the ${M} pooled cells (mean of ${lh} heads) sums to ${lofi.reduce((s, v) => s + v, 0).toFixed(6)}`);

  // The decoder: queries from [t ⊙ g, t], each layer's logits, and layer 0's readout attention.
  const queries = DecodeHead.relationQueries(text, global); // [B, C, 2E]
  const { layerLogits } = head.forward(dense, global, text);
  console.log(`relation queries [${queries.shape.join(', ')}] -> ${layerLogits.length} layers of mask logits [${layerLogits[0].shape.join(', ')}]`);
  const readout = softmax(layerLogits[0].reshape([1, C, N]), -1); // [B, C, N]
  const row = readout.slice(1, 0, 1).reshape([N]).toArray();
  console.log(`layer 0 readout attention of class 0 over the ${N} tokens sums to ${row.reduce((s, v) => s + v, 0).toFixed(6)}`);
  return draw(lofi, [qi, qj], row);
});

/** The picture: three panels of the padded 9x9 grid, each token a Z x Z block. */
async function draw(lofi: number[], query: [number, number], readout: number[]): Promise<void> {
  const P = 9, Z = 20, GAP = 8, ws = hilo.ws;
  const side = P * Z, width = 3 * side + 2 * GAP;
  const rgb = new Uint8Array(width * side * 3).fill(255);
  const put = (panel: number, y: number, x: number, c: readonly number[]) => rgb.set(c, (y * width + panel * (side + GAP) + x) * 3);
  const heat = (v: number): number[] => [255, Math.round(255 * (1 - v)), Math.round(255 * (1 - v))]; // white -> red
  // Each heat map is scaled from its own min (white) to its max (red): the values are close to uniform.
  const scale = (v: number[]) => { const lo = Math.min(...v), hi = Math.max(...v); return (u: number) => (u - lo) / (hi - lo || 1); };
  const sL = scale(lofi), sR = scale(readout);
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) {
    const padded = i >= G || j >= G;
    const wi = Math.floor(i / ws), wj = Math.floor(j / ws);
    for (let y = 0; y < Z; y++) for (let x = 0; x < Z; x++) {
      const [py, px] = [i * Z + y, j * Z + x];
      const edge = py % (ws * Z) < 2 || px % (ws * Z) < 2 || py === side - 1 || px === side - 1; // window / cell borders
      const grid = y === 0 || x === 0; // token borders
      const hatch = padded && (x + y) % 6 < 2; // padded zeros
      // Panel 0: windows in two alternating tints, the query token's window darker, the query black.
      const tint = (wi + wj) % 2 === 0 ? [190, 215, 245] : [200, 235, 200];
      let c0 = wi === Math.floor(query[0] / ws) && wj === Math.floor(query[1] / ws) ? [120, 160, 230] : tint;
      if (i === query[0] && j === query[1]) c0 = [20, 20, 20];
      // Panel 1: the query's Lo-Fi attention to each pooled cell (one value per 3x3 cell).
      let c1 = heat(sL(lofi[wi * (P / ws) + wj]));
      if (i === query[0] && j === query[1] && (x + y) % 4 < 2) c1 = [20, 20, 20];
      // Panel 2: the readout attention of class 0 per real token; padding has none.
      const c2 = padded ? [235, 235, 235] : heat(sR(readout[i * G + j]));
      const cs = [c0, c1, c2].map((c) => (edge ? [40, 40, 40] : hatch ? [150, 150, 150] : grid ? c.map((v) => v - 25) : c));
      cs.forEach((c, k) => put(k, py, px, c.map((v) => Math.max(0, v))));
    }
  }
  const path = join(OUT_DIR, '06-hilo.png');
  await writePng(path, { width, height: side, channels: 3, data: rgb });
  console.log(`wrote ${path} (${width}x${side}): windows | Lo-Fi attention of one token | readout attention of class 0`);
}
