/**
 * Seeded random shapes and float64 leaves for the gradient checks.
 *
 *   const g = new Generator(7);
 *   const [sa, sb] = broadcastShapes(g);          // e.g. [3, 1, 4] and [2, 1]
 *   const a = leaf(sa, g, 'pos');                  // float64, requiresGrad, values in [0.5, 2)
 *   const { x, perm } = permutedLeaf([2, 3, 4], g); // x.permute(perm) has shape [2, 3, 4]
 *
 * Kinds of values: 'randn' N(0, 1); 'pos' [0.5, 2) (log, sqrt, pow base); 'away' |x| >= 0.3 (divisors,
 * relu, abs); 'distinct' values at least 0.1 apart (max, argmax: no ties within a finite-difference step).
 */
import { Generator, tensor, type Tensor } from '../../engine/index.ts';

export type Kind = 'randn' | 'pos' | 'away' | 'distinct';

export function values(n: number, g: Generator, kind: Kind = 'randn'): Float64Array {
  const v = new Float64Array(n);
  if (kind === 'distinct') {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = g.int(0, i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < n; i++) v[i] = (order[i] - n / 2) * 0.25 + 0.1 * g.random();
    return v;
  }
  for (let i = 0; i < n; i++) {
    if (kind === 'pos') v[i] = 0.5 + 1.5 * g.random();
    else if (kind === 'away') {
      const x = g.normal();
      v[i] = x < 0 ? x - 0.3 : x + 0.3;
    } else v[i] = g.normal();
  }
  return v;
}

/** A float64 leaf tensor that requires grad. */
export function leaf(shape: readonly number[], g: Generator, kind: Kind = 'randn'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(values(n, g, kind), shape, { dtype: 'float64', requiresGrad: true });
}

/** A random shape: rank in [minRank, maxRank], each dim in [1, maxDim]. */
export function randShape(g: Generator, minRank = 1, maxRank = 3, maxDim = 4): number[] {
  const rank = g.int(minRank, maxRank + 1);
  return Array.from({ length: rank }, () => g.int(1, maxDim + 1));
}

/**
 * Two shapes that broadcast together and really broadcast: some dims of each set to 1, and leading
 * dims dropped from one of them. Rank 1-3 output.
 */
export function broadcastShapes(g: Generator): [number[], number[]] {
  const out = randShape(g, 2, 3, 4).map((d) => Math.max(d, 2));
  const a = out.map((d) => (g.random() < 0.3 ? 1 : d));
  const b = out.map((d, i) => (a[i] !== 1 && g.random() < 0.5 ? 1 : d));
  const drop = g.int(0, out.length);
  return g.random() < 0.5 ? [a, b.slice(drop)] : [a.slice(drop), b];
}

/** A random non-identity permutation of `rank` axes (identity when rank < 2). */
export function randPerm(g: Generator, rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  if (rank < 2) return p;
  do {
    for (let i = rank - 1; i > 0; i--) {
      const j = g.int(0, i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
  } while (p.every((v, i) => v === i));
  return p;
}

/**
 * A leaf `x` and a permutation such that `x.permute(perm)` has `shape`: the way to feed an op a
 * non-contiguous (permuted) input while the gradient is taken w.r.t. the unpermuted leaf.
 */
export function permutedLeaf(shape: readonly number[], g: Generator, kind: Kind = 'randn'): { x: Tensor; perm: number[] } {
  const perm = randPerm(g, shape.length);
  const leafShape = new Array<number>(shape.length);
  perm.forEach((p, i) => { leafShape[p] = shape[i]; });
  return { x: leaf(leafShape, g, kind), perm };
}
