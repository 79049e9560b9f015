/**
 * Bilinear resize (engine/functional/interpolate.ts) against torch
 * F.interpolate(mode='bilinear', align_corners=False), forward and input gradient; float64 gradcheck;
 * the weights' invariants; the constants follow x's backend, not the global one.
 */
import t from 'tap';
import { otherCpuBackend } from '../../helpers/backends.ts';
import * as E from '../../../engine/index.ts';
import { arange, Generator, getBackend, randn, tensor } from '../../../engine/index.ts';
import { bilinearWeights, interpolate, resize2d } from '../../../engine/index.ts';
import { runOpFixture, type OpImpl } from '../../helpers/fixtures.ts';
import { assertGradcheck } from '../../helpers/gradcheck.ts';
import { leaf } from '../../helpers/random.ts';
import { ref, relErr } from '../../model/fixtures.ts';

const OPS: Record<string, OpImpl> = {
  interpolate: ([x], a) => E.interpolate(x, a.size as [number, number], { mode: 'bilinear', alignCorners: false }),
};
runOpFixture(t, 'functional/interpolate', OPS);

// The resize cases frozen with the CLIP reference (tools/reference/clip_fixtures.py), kept from the
// test that lived in test/model/ before resize2d moved to the engine.
for (const [name, h, w] of [['14to32', 32, 32], ['32to14', 14, 14], ['7x5to5x9', 5, 9]] as [string, number, number][]) {
  t.test(`resize2d ${name} matches the CLIP reference's F.interpolate, forward and backward`, (t) => {
    const x = ref(`resize.${name}.in`).requiresGrad_();
    const y = resize2d(x, h, w);
    t.same(y.shape, ref(`resize.${name}.out`).shape);
    const errOut = relErr(y, ref(`resize.${name}.out`));
    t.ok(errOut < 1e-6, `forward error ${errOut.toExponential(2)}`);
    y.mul(ref(`resize.${name}.weight`)).sum().backward();
    const errGrad = relErr(x.grad!, ref(`resize.${name}.grad`));
    t.ok(errGrad < 1e-6, `input gradient error ${errGrad.toExponential(2)}`);
    t.end();
  });
}

t.test('gradcheck resize2d: up, down, mixed, leading dims', (t) => {
  const g = new Generator(81);
  for (const [shape, h, w] of [[[1, 4, 4], 7, 6], [[2, 6, 5], 3, 2], [[1, 2, 3, 1, 5], 4, 3]] as [number[], number, number][]) {
    assertGradcheck(t, `resize2d([${shape}] -> ${h}x${w})`, (x) => resize2d(x, h, w), [leaf(shape, g)]);
  }
  t.end();
});

t.test('bilinearWeights: rows sum to 1, at most two taps, identity at equal sizes', (t) => {
  for (const [inS, outS] of [[14, 32], [32, 14], [7, 5], [1, 4], [4, 1], [5, 5]]) {
    const m = bilinearWeights(inS, outS);
    for (let o = 0; o < outS; o++) {
      const row = Array.from(m.subarray(o * inS, (o + 1) * inS));
      t.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12, `${inS}->${outS} row ${o} sums to 1`);
      t.ok(row.filter((v) => v !== 0).length <= 2, `${inS}->${outS} row ${o} has at most 2 taps`);
    }
  }
  const id = bilinearWeights(5, 5);
  t.ok(id.every((v, i) => v === (Math.floor(i / 5) === i % 5 ? 1 : 0)), 'equal sizes give the identity');
  t.end();
});

t.test('resize2d: same size returns the input, 2x upsampling of a ramp, any leading dims', (t) => {
  const x = randn([2, 3, 4, 4]);
  t.equal(resize2d(x, 4, 4), x);
  // torch: interpolate([0, 1, 2, 3] as 1x4, size 8) = [0, .25, .75, 1.25, 1.75, 2.25, 2.75, 3]
  const ramp = arange(4).reshape([1, 4]);
  t.same(resize2d(ramp, 1, 8).toArray(), [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
  t.same(resize2d(randn([2, 3, 5, 4, 4]), 6, 2).shape, [2, 3, 5, 6, 2]);
  t.end();
});

t.test('interpolate: bad arguments are refused with a specific message', (t) => {
  const x = randn([1, 1, 3, 3]);
  t.throws(() => interpolate(x, [0, 2]), /size must be two positive integers/);
  t.throws(() => interpolate(x, [2, 2], { mode: 'nearest' as 'bilinear' }), /only mode 'bilinear'/);
  t.throws(() => interpolate(x, [2, 2], { alignCorners: true as false }), /alignCorners = false/);
  t.end();
});

t.test('interpolate keeps x on its backend and dtype (constants are made beside x)', (t) => {
  const global = getBackend().name;
  const other = otherCpuBackend();
  if (!other) {
    t.pass('only one CPU backend registered: nothing to compare');
    t.end();
    return;
  }
  const x = tensor(new Float64Array(2 * 3 * 4).map((_, i) => Math.cos(i)), [2, 3, 4], { dtype: 'float64', device: other });
  const y = interpolate(x, [5, 2]);
  t.equal(y.storage.backend.name, other, `computed on "${other}" while the global backend is "${global}"`);
  t.equal(y.dtype, 'float64');
  t.end();
});
