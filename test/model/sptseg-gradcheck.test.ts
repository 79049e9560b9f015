// float64 central-difference gradient checks of the SPT-SEG composites (test/helpers/gradcheck.ts):
// HiLo (padding, windows, pooling, gate, readout) with respect to the memory and the queries, on an odd
// 5x4 grid; the spectral prompt with respect to the patch tokens and the CLS token on a non-square grid;
// a whole decoder layer. (The parameter gradients are compared with PyTorch in sptseg.test.ts.)
import t from 'tap';
import { manualSeed, randn, type Tensor } from '../../engine/index.ts';
import { Module, Parameter } from '../../engine/nn/index.ts';
import { DecoderLayer, HiLo, SptVisionTransformer } from '../../model/index.ts';
import { assertGradcheck } from '../helpers/gradcheck.ts';

/** Every parameter of `m` replaced by a float64 copy (random values kept). */
function toFloat64<M extends Module>(m: M): M {
  for (const [, mod] of m.namedModules()) {
    const rec = mod as unknown as Record<string, unknown>;
    for (const key of Object.keys(rec)) {
      const v = rec[key];
      if (v instanceof Parameter) rec[key] = new Parameter(v.to('float64'));
    }
  }
  return m;
}

const leaf = (shape: number[], scale = 1) => {
  const x = randn(shape, { dtype: 'float64' }).mul(scale).detach();
  x.requiresGrad = true;
  return x;
};

t.test('HiLo: memory and queries, odd grid (padding 5x4 -> 6x6)', (tt) => {
  manualSeed(11);
  const hilo = toFloat64(new HiLo(16, { heads: 8, alpha: 0.75, windowSize: 3 })).eval(); // 6 lo heads, 2 hi
  const x = leaf([1, 20, 16]), tgt = leaf([1, 3, 16]);
  const fn = (a: Tensor, b: Tensor) => {
    const { out, logits } = hilo.forward(a, 5, 4, b);
    return out.sum(-1).add(logits.sum(-1)); // [1, 3]: both outputs
  };
  assertGradcheck(tt, 'HiLo (out and logits)', fn, [x, tgt], { atol: 1e-6, rtol: 1e-4 });
  tt.end();
});

t.test('spectral prompt: patches and CLS, 4x5 grid', (tt) => {
  manualSeed(12);
  const enc = toFloat64(new SptVisionTransformer({
    vision: { imageSize: 32, patchSize: 8, width: 3, layers: 2, heads: 1, outputDim: 2 },
    numTokens: 1, deepLayers: 1, spectralGrid: [4, 5],
  }));
  enc.complex_weight = new Parameter(randn(enc.complex_weight!.shape, { dtype: 'float64' }));
  const patches = leaf([2, 20, 3]), cls = leaf([2, 1, 3]);
  assertGradcheck(tt, 'fre_filter', (p, c) => enc.spectralPrompt(p, c, 4, 5), [patches, cls]);
  tt.end();
});

t.test('decoder layer: queries and memory through hlfs, norms and FFN', (tt) => {
  manualSeed(13);
  const layer = toFloat64(new DecoderLayer(16, 32, 'hilo', { embedDim: 16, width: 16, layers: 1, ffn: 32 })).eval();
  const tgt = leaf([1, 2, 16]), memory = leaf([1, 9, 16]);
  const fn = (a: Tensor, b: Tensor) => {
    const r = layer.forward(a, b, 3, 3, 0.1);
    return r.tgt.sum(-1).add(r.logits.sum(-1));
  };
  assertGradcheck(tt, 'TPN_DecoderLayer', fn, [tgt, memory], { atol: 1e-6, rtol: 1e-4 });
  tt.end();
});
