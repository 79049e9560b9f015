/** engine/io/ndarray.ts: Tensor <-> ndarray, including strided, flipped and transposed views. */
import t from 'tap';
import ndarray from 'ndarray';
import { tensor } from '../../../engine/index.ts';
import { fromNdarray, ndarrayValues, toNdarray } from '../../../engine/io/ndarray.ts';

t.test('toNdarray: shape, values, dtype', (t) => {
  const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const a = toNdarray(x);
  t.same(a.shape, [2, 3]);
  t.equal(a.get(1, 2), 6);
  t.equal(a.get(0, 1), 2);
  t.ok(a.data instanceof Float32Array);
  t.ok(toNdarray(tensor([1, 2], [2], { dtype: 'int32' })).data instanceof Int32Array);
  t.end();
});

t.test('fromNdarray walks views: crop, flip, transpose', (t) => {
  const base = ndarray(Uint8Array.from({ length: 24 }, (_, i) => i), [4, 6]); // [[0..5], [6..11], ...]
  const crop = base.lo(1, 2).hi(2, 3);
  t.same(Array.from(ndarrayValues(crop)), [8, 9, 10, 14, 15, 16]);
  const flipped = crop.step(1, -1);
  t.same(Array.from(ndarrayValues(flipped)), [10, 9, 8, 16, 15, 14]);
  const y = fromNdarray(flipped.transpose(1, 0));
  t.same(y.shape, [3, 2]);
  t.equal(y.dtype, 'int32');
  t.same(Array.from(y.data()), [10, 16, 9, 15, 8, 14]);
  t.equal(fromNdarray(ndarray(new Float64Array([1.5]), [1])).dtype, 'float64');
  t.equal(fromNdarray(ndarray(new Float32Array([1.5]), [1])).dtype, 'float32');
  t.equal(fromNdarray(ndarray(new Uint8Array([1]), [1]), 'float32').dtype, 'float32');
  t.end();
});

t.test('round trip', (t) => {
  const x = tensor(Array.from({ length: 24 }, (_, i) => i * 0.5), [2, 3, 4]);
  const back = fromNdarray(toNdarray(x));
  t.same(back.shape, [2, 3, 4]);
  t.same(Array.from(back.data()), Array.from(x.data()));
  t.same(fromNdarray(ndarray(new Float32Array(0), [0, 3])).shape, [0, 3]);
  t.end();
});
