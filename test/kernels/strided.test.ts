/**
 * The strided walk under every movement op (kernels/cpu/strided.ts) and the copy kernel on it
 * (kernels/cpu/copy.ts): axis merging (`coalesce`) and 2-D tiles must visit exactly the elements a
 * plain nested loop over the original shape and strides visits, in the same order.
 */
import t from 'tap';
import { Generator } from '../../engine/index.ts';
import { copy } from '../../kernels/cpu/copy.ts';
import { coalesce, stridedLoop } from '../../kernels/cpu/strided.ts';

/** Offsets of every index of `shape` in row-major order, by the definition. */
function offsets(shape: readonly number[], strides: readonly number[], offset: number): number[] {
  const out: number[] = [];
  const walk = (d: number, at: number) => {
    if (d === shape.length) { out.push(at); return; }
    for (let i = 0; i < shape[d]; i++) walk(d + 1, at + i * strides[d]);
  };
  walk(0, offset);
  return out;
}

t.test('coalesce merges contiguous axes, drops size-1 axes and keeps the rest', (t) => {
  t.same(coalesce([2, 3, 4], [[12, 4, 1], [12, 4, 1]]), { shape: [24], strides: [[1], [1]] });
  t.same(coalesce([2, 3, 4], [[12, 4, 1], [1, 2, 6]]), { shape: [2, 3, 4], strides: [[12, 4, 1], [1, 2, 6]] });
  t.same(coalesce([2, 1, 3], [[3, 99, 1]]), { shape: [6], strides: [[1]] });
  t.same(coalesce([4, 5], [[0, 0], [5, 1]]), { shape: [20], strides: [[0], [1]] }, 'a broadcast operand merges too');
  t.same(coalesce([4, 5], [[0, 1], [5, 1]]), { shape: [4, 5], strides: [[0, 1], [5, 1]] });
  t.same(coalesce([1, 1], [[7, 3]]), { shape: [], strides: [[]] });
  t.end();
});

t.test('copy and stridedLoop agree with the definition on random views', (t) => {
  const g = new Generator(71);
  const int = (n: number) => Math.floor(g.random() * n);
  let checked = 0;
  for (let trial = 0; trial < 400; trial++) {
    const rank = 1 + int(5);
    const shape = Array.from({ length: rank }, () => 1 + int(4));
    // A source view: dense strides of a base, permuted, some axes stepped, flipped or broadcast.
    const base = shape.map((d) => d * (1 + int(2)));
    const dense: number[] = [];
    for (let d = rank - 1, s = 1; d >= 0; d--) { dense[d] = s; s *= base[d]; }
    const perm = [...Array(rank).keys()].sort(() => g.random() - 0.5);
    let srcStrides = perm.map((p) => dense[p]);
    srcStrides = srcStrides.map((s) => (g.random() < 0.15 ? 0 : g.random() < 0.15 ? -s : s));
    const span = srcStrides.reduce((a, s, d) => a + Math.abs(s) * (shape[d] - 1), 0);
    const srcOffset = srcStrides.reduce((a, s, d) => a + (s < 0 ? -s * (shape[d] - 1) : 0), 0);
    const src = Float32Array.from({ length: span + srcOffset + 1 }, (_, i) => i + 0.5);
    // The destination: dense, or a strided window into a larger buffer.
    const dstStrides: number[] = [];
    for (let d = rank - 1, s = 1 + int(2); d >= 0; d--) { dstStrides[d] = s; s *= shape[d] + int(2); }
    const dstOffset = int(3);
    const dst = new Float32Array(dstOffset + dstStrides.reduce((a, s, d) => a + s * (shape[d] - 1), 0) + 1).fill(-1);
    copy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);
    const want = new Float32Array(dst.length).fill(-1);
    const so = offsets(shape, srcStrides, srcOffset), dO = offsets(shape, dstStrides, dstOffset);
    so.forEach((s, i) => { want[dO[i]] = src[s]; });
    if (Array.from(dst).some((v, i) => v !== want[i])) {
      t.fail(`copy: shape ${shape} src strides ${srcStrides} dst strides ${dstStrides}`);
      continue;
    }
    // stridedLoop: the runs it reports, expanded, are the definition's offsets in order.
    const seen: number[] = [];
    const outs: number[] = [];
    stridedLoop(shape, [srcStrides], [srcOffset], (o, [s0], [st], len) => {
      for (let j = 0; j < len; j++) { seen.push(s0 + j * st); outs.push(o + j); }
    });
    if (seen.join() !== so.join() || outs.join() !== so.map((_, i) => i).join()) {
      t.fail(`stridedLoop: shape ${shape} strides ${srcStrides}`);
      continue;
    }
    checked++;
  }
  t.equal(checked, 400, 'all 400 random views');
  t.end();
});
