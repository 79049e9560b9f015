// SPT-SEG against the PyTorch reference (tools/reference/sptseg_fixtures.py): a tiny random model under
// the official state-dict names loads with no key renamed; the mask logits of every decoder layer, the
// dense map and the global embedding match within 1e-4 (max|ours − torch| / max|torch|, float32 against
// a float64 reference), and the gradients of Σ_l Σ logits_l ⊙ w_l for every trainable parameter within
// 1e-3, on the 8x8 grid (power of two) and on the 7x7 grid (odd rfft2 width, HiLo padding, positional
// table interpolated 8x8 -> 7x7). The ZegCLIP cross-attention decoder is compared forward-only.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { interpolate, tensor, type Tensor } from '../../engine/index.ts';
import { parseSafetensors, toFloat32 } from '../../engine/io/safetensors.ts';
import { freeze, sptSegFromStateDict, trainableParameters, type SptSeg } from '../../model/index.ts';
import { relErr, sameShape } from './fixtures.ts';

const DIR = fileURLToPath(new URL('../fixtures/sptseg/', import.meta.url));
const FWD_TOL = 1e-4;
const GRAD_TOL = 1e-3;

function readFixture(name: string): Map<string, Tensor> {
  const { tensors } = parseSafetensors(readFileSync(DIR + name), name);
  return new Map([...tensors].map(([k, raw]) => [k, tensor(toFloat32(raw, k), raw.shape)]));
}

const isWeight = (k: string) => k.startsWith('backbone.') || k.startsWith('decode_head.');
const weightsOf = (m: Map<string, Tensor>) => new Map([...m].filter(([k]) => isWeight(k)));

const grid8 = readFixture('grid8.safetensors');
const grid7 = readFixture('grid7.safetensors');
const cross = readFixture('cross.safetensors');

function get(m: Map<string, Tensor>, k: string): Tensor {
  const v = m.get(k);
  if (!v) throw new Error(`fixture has no ${k}`);
  return v;
}

function close(tt: Pick<typeof t, 'ok'>, name: string, actual: Tensor, expected: Tensor, tol: number): void {
  tt.ok(sameShape(actual, expected), `${name}: shape [${actual.shape}] vs [${expected.shape}]`);
  const err = relErr(actual, expected);
  tt.ok(err <= tol, `${name}: error ${err.toExponential(2)} <= ${tol}`);
}

/** Forward + backward of the fixture loss, checked against the reference. */
function checkCase(tt: Pick<typeof t, 'ok' | 'equal'>, model: SptSeg, ref: Map<string, Tensor>, label: string): void {
  const trainable = freeze(model);
  const out = model.forward(get(ref, 'in.image'), get(ref, 'in.text'));
  tt.equal(out.layerLogits.length, 2, `${label}: two decoder layers`);
  out.layerLogits.forEach((l, i) => {
    const expected = get(ref, `out.logits${i}`);
    // A closed gate everywhere (clamp(cos, 0, 1) = 0) would make the logits 0 and the check empty.
    for (let b = 0; b < expected.shape[0]; b++) {
      const peak = expected.slice(0, b, b + 1).abs().max().item();
      tt.ok(peak > 1e-4, `${label} logits${i}, image ${b}: the reference is not degenerate (max |logit| ${peak.toExponential(2)})`);
    }
    close(tt, `${label} logits${i}`, l, expected, FWD_TOL);
  });
  close(tt, `${label} dense`, out.dense, get(ref, 'out.dense'), FWD_TOL);
  close(tt, `${label} global`, out.global, get(ref, 'out.global'), FWD_TOL);
  const loss = out.layerLogits.map((l, i) => l.mul(get(ref, `in.w${i}`)).sum()).reduce((a, b) => a.add(b));
  loss.backward();
  const names = trainableParameters(model);
  tt.equal(names.length, trainable.length, `${label}: freeze returns the trainable set`);
  for (const [name, p] of names) {
    const g = p.grad ?? tensor(new Float32Array(p.size), p.shape);
    close(tt, `${label} grad ${name}`, g, get(ref, `grad.${name}`), GRAD_TOL);
  }
  const refGrads = [...ref.keys()].filter((k) => k.startsWith('grad.')).length;
  tt.equal(names.length, refGrads, `${label}: every trainable parameter of the reference is checked`);
}

t.test('grid 8x8: loads under the official names, forward and gradients match PyTorch', (tt) => {
  const { model, ignoredKeys } = sptSegFromStateDict(weightsOf(grid8), {}, 'grid8.safetensors');
  tt.same(ignoredKeys, []);
  const own = new Set(model.stateDict().keys());
  tt.same([...own].sort(), [...weightsOf(grid8).keys()].sort(), 'every key is the official one, none renamed');
  tt.same(model.config.encoder.spectralGrid, [8, 8]);
  tt.equal(model.config.encoder.vision.layers, 2);
  tt.equal(model.config.encoder.numTokens, 4);
  tt.equal(model.config.encoder.deepLayers, 1);
  tt.equal(model.config.decoder.layers, 2);
  tt.equal(model.config.decoder.ffn, 128);
  checkCase(tt, model, grid8, 'grid8');
  tt.end();
});

t.test('grid 7x7: odd grid, padded HiLo windows, interpolated positions', (tt) => {
  const dict = weightsOf(grid8);
  for (const [k, v] of weightsOf(grid7)) dict.set(k, v); // complex_weight [7, 4, 64, 2] and the hlfs.prompt of each layer
  const { model } = sptSegFromStateDict(dict, {}, 'grid7');
  tt.same(model.config.encoder.spectralGrid, [7, 7]);
  checkCase(tt, model, grid7, 'grid7');
  const image = get(grid7, 'in.image').slice(0, 0, 1);
  const pred = model.predMasks(image, get(grid7, 'in.text')); // [1, C, 56, 56]
  tt.ok(get(grid7, 'out.pred0').abs().max().item() > 1e-4, 'grid7 pred: the reference is not degenerate');
  close(tt, 'grid7 pred (upsampled last layer)', pred.squeeze(0), get(grid7, 'out.pred0'), FWD_TOL);
  tt.end();
});

t.test('the ZegCLIP cross-attention decoder (ablation baseline) matches PyTorch', (tt) => {
  const dict = new Map([...weightsOf(grid8)].filter(([k]) => k.startsWith('backbone.')));
  for (const [k, v] of weightsOf(cross)) dict.set(k, v);
  const { model } = sptSegFromStateDict(dict, { crossHeads: 2 }, 'cross');
  tt.equal(model.config.decoder.attention, 'cross');
  const out = model.forward(get(grid8, 'in.image'), get(grid8, 'in.text'));
  out.layerLogits.forEach((l, i) => close(tt, `cross logits${i}`, l, get(cross, `out.logits${i}`), FWD_TOL));
  tt.end();
});

t.test('upsampling is the bilinear interpolate of the last layer', (tt) => {
  const { model } = sptSegFromStateDict(weightsOf(grid8));
  const image = get(grid8, 'in.image');
  const text = get(grid8, 'in.text');
  const { maskLogits } = model.forward(image, text);
  close(tt, 'predMasks', model.predMasks(image, text), interpolate(maskLogits, [64, 64]), 1e-6);
  tt.end();
});
