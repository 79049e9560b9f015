// resize2d (bilinear as two matmuls) against torch F.interpolate(mode='bilinear', align_corners=False),
// forward and input gradient, for upsampling, downsampling and a mixed non-square case.
import t from 'tap';
import { arange, randn } from '../../engine/index.ts';
import { bilinearWeights, resize2d } from '../../model/interpolate.ts';
import { ref, relErr } from './fixtures.ts';

const CASES: [string, number, number][] = [['14to32', 32, 32], ['32to14', 14, 14], ['7x5to5x9', 5, 9]];

for (const [name, h, w] of CASES) {
  t.test(`resize2d ${name} matches torch, forward and backward`, async (tt) => {
    const x = ref(`resize.${name}.in`).requiresGrad_();
    const y = resize2d(x, h, w);
    const expected = ref(`resize.${name}.out`);
    tt.same(y.shape, expected.shape);
    const errOut = relErr(y, expected);
    tt.ok(errOut < 1e-6, `forward error ${errOut.toExponential(2)}`);
    y.mul(ref(`resize.${name}.weight`)).sum().backward();
    const errGrad = relErr(x.grad!, ref(`resize.${name}.grad`));
    tt.ok(errGrad < 1e-6, `input gradient error ${errGrad.toExponential(2)}`);
  });
}

t.test('bilinearWeights: rows sum to 1, at most two taps, identity at equal sizes', async (tt) => {
  for (const [inS, outS] of [[14, 32], [32, 14], [7, 5], [1, 4], [4, 1], [5, 5]]) {
    const m = bilinearWeights(inS, outS);
    for (let o = 0; o < outS; o++) {
      const row = Array.from(m.subarray(o * inS, (o + 1) * inS));
      tt.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12, `${inS}->${outS} row ${o} sums to 1`);
      tt.ok(row.filter((v) => v !== 0).length <= 2, `${inS}->${outS} row ${o} has at most 2 taps`);
    }
  }
  const id = bilinearWeights(5, 5);
  tt.ok(id.every((v, i) => v === (Math.floor(i / 5) === i % 5 ? 1 : 0)), 'equal sizes give the identity');
});

t.test('resize2d: same size returns the input, 2x upsampling of a ramp, any leading dims', async (tt) => {
  const x = randn([2, 3, 4, 4]);
  tt.equal(resize2d(x, 4, 4), x);
  // torch: interpolate([0, 1, 2, 3] as 1x4, size 8) = [0, .25, .75, 1.25, 1.75, 2.25, 2.75, 3]
  const ramp = arange(4).reshape([1, 4]);
  tt.same(resize2d(ramp, 1, 8).toArray(), [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
  tt.same(resize2d(randn([2, 3, 5, 4, 4]), 6, 2).shape, [2, 3, 5, 6, 2]);
});
