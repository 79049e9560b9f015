/**
 * PyTorch fixtures for the tests: load a safetensors file from test/fixtures/ and replay its op cases.
 *
 *   loadFixture('unary')          test/fixtures/ops/unary.safetensors (a name with a '/' is taken
 *                                 relative to test/fixtures/, e.g. 'train/mlp')
 *   runOpFixture(t, 'unary', OPS) one subtest per case listed in the file's __metadata__
 *
 * The files are written by tools/reference/ops_fixtures.py (see OpFixture in tools/reference/common.py
 * for the naming: <case>.in0, <case>.out, <case>.gout, <case>.grad0, ...). The case list comes from the
 * file, never from the test, so a test cannot silently drop a case; an op the test's table does not
 * implement fails, and so does a tensor that belongs to no listed case.
 *
 * Parsing is engine/io/safetensors.ts; I64 tensors (PyTorch's index dtype) come back as Int32Array.
 */
import { readFileSync } from 'node:fs';
import type { Test } from 'tap';
import { parseSafetensors, toFloat64 } from '../../engine/io/safetensors.ts';
import { tensor, type DType, type Tensor } from '../../engine/index.ts';
import { assertClose } from './gradcheck.ts';

export interface FixtureTensor {
  dtype: 'F32' | 'F64' | 'I32' | 'I64';
  shape: number[];
  /** I64 and I32 tensors both come back as Int32Array. */
  data: Float32Array | Float64Array | Int32Array;
}

/** Parsed JSON, typed loosely on purpose: each test's op table knows what its op takes. */
export type CaseArgs = Record<string, any>;

/** The metadata of one op case (see OpFixture.case in tools/reference/common.py). */
export interface CaseMeta {
  op: string;
  /** The op's arguments as the generator wrote them (JSON: numbers, arrays, null for "not given"). */
  args: CaseArgs;
  dtype: 'float32' | 'float64';
  /** Inputs whose gradient the file holds (`<case>.grad<i>`). */
  grad: number[];
  /** Per input: a permutation applied before the op (the gradient is w.r.t. the unpermuted input). */
  perm: (number[] | null)[];
  /** 0: one output named `out`; k > 0: outputs out0 .. out{k-1}. */
  outs: number;
}

export interface Fixture {
  path: string;
  /** Every tensor name in the file. */
  names: string[];
  has(name: string): boolean;
  get(name: string): FixtureTensor;
  /** Metadata entries whose value is a JSON object, parsed. */
  cases: Record<string, CaseMeta>;
  metadata: Record<string, string>;
}

const FIXTURES = new URL('../fixtures/', import.meta.url);

export function loadFixture(name: string): Fixture {
  const rel = name.includes('/') ? `${name}.safetensors` : `ops/${name}.safetensors`;
  const url = new URL(rel, FIXTURES);
  const path = url.pathname;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(url);
  } catch (err) {
    throw new Error(`fixture ${path} is missing: run \`npm run fixtures\` (${(err as Error).message})`);
  }
  const { tensors, metadata } = parseSafetensors(bytes, path);
  const cases: Record<string, CaseMeta> = {};
  for (const [key, value] of Object.entries(metadata)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      continue;
    }
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) cases[key] = parsed as CaseMeta;
  }
  return {
    path,
    names: [...tensors.keys()],
    metadata,
    cases,
    has: (n) => tensors.has(n),
    get(n) {
      const raw = tensors.get(n);
      if (!raw) throw new Error(`${path}: no tensor "${n}"`);
      switch (raw.dtype) {
        case 'F32': case 'F64': case 'I32':
          return { dtype: raw.dtype, shape: raw.shape, data: raw.data as Float32Array | Float64Array | Int32Array };
        case 'I64':
          return { dtype: 'I64', shape: raw.shape, data: Int32Array.from(toFloat64(raw, n)) };
        default:
          throw new Error(`${path}: tensor "${n}" has dtype ${raw.dtype}, which the op tests do not use`);
      }
    },
  };
}

/** A fixture tensor as an engine tensor (F32 -> float32, F64 -> float64, integers -> int32). */
export function toTensor(ft: FixtureTensor, requiresGrad = false): Tensor {
  const dtype: DType = ft.dtype === 'F32' ? 'float32' : ft.dtype === 'F64' ? 'float64' : 'int32';
  return tensor(ft.data, ft.shape, { dtype, requiresGrad });
}

/** The acceptance thresholds of the engine's PyTorch comparisons (relative error as in `closeness`). */
export const TOLERANCES = {
  float32: { forward: 1e-5, grad: 1e-4 },
  float64: { forward: 1e-10, grad: 1e-10 },
} as const;

/** An engine call for one op: the (possibly permuted) inputs and the case's args. */
export type OpImpl = (xs: Tensor[], args: CaseArgs) => Tensor | Tensor[];

/** One subtest per case of test/fixtures/ops/<family>.safetensors: forward values, then gradients. */
export function runOpFixture(t: Test, family: string, ops: Record<string, OpImpl>): void {
  const fx = loadFixture(family);
  const names = Object.keys(fx.cases).sort();
  t.test(`PyTorch fixture ${family}.safetensors`, (t) => {
    t.ok(names.length > 0, `${names.length} cases`);
    const orphans = fx.names.filter((n) => !Object.hasOwn(fx.cases, n.slice(0, n.lastIndexOf('.'))));
    t.same(orphans, [], 'every tensor belongs to a case listed in __metadata__');
    for (const name of names) {
      t.test(name, (t) => {
        runCase(t, fx, name, ops);
        t.end();
      });
    }
    t.end();
  });
}

function runCase(t: Test, fx: Fixture, c: string, ops: Record<string, OpImpl>): void {
  const meta = fx.cases[c];
  const impl = Object.hasOwn(ops, meta.op) ? ops[meta.op] : undefined;
  if (!impl) {
    t.fail(`no engine implementation for op "${meta.op}" in this test's table`);
    return;
  }
  const tol = TOLERANCES[meta.dtype];
  const inputs: Tensor[] = [];
  for (let i = 0; fx.has(`${c}.in${i}`); i++) inputs.push(toTensor(fx.get(`${c}.in${i}`), meta.grad.includes(i)));
  t.equal(inputs.length, meta.perm.length, 'number of inputs');
  const views = inputs.map((x, i) => (meta.perm[i] ? x.permute(meta.perm[i] as number[]) : x));

  const result = impl(views, meta.args);
  const outs = Array.isArray(result) ? result : [result];
  const onames = meta.outs === 0 ? ['out'] : Array.from({ length: meta.outs }, (_, k) => `out${k}`);
  if (!t.equal(outs.length, onames.length, 'number of outputs')) return;
  for (const [k, on] of onames.entries()) {
    const expected = fx.get(`${c}.${on}`);
    const out = outs[k];
    t.same(out.shape, expected.shape, `${on} shape`);
    if (expected.dtype === 'I64' || expected.dtype === 'I32') {
      t.equal(out.dtype, 'int32', `${on} dtype`);
      t.same(Array.from(out.data()), Array.from(expected.data), `${on} values (exact)`);
    } else {
      // The stored dtype, not the case's: torch's int / int is float32 in a float64 case too.
      t.equal(out.dtype, expected.dtype === 'F32' ? 'float32' : 'float64', `${on} dtype`);
      assertClose(t, out.data(), expected.data, { rtol: tol.forward, name: `${c}.${on}` });
    }
  }
  if (meta.grad.length === 0) return;

  // Backward of Σ_k out_k ⊙ gout_k (for one output: out.backward(gout)).
  const gouts = onames.map((on) => toTensor(fx.get(`${c}.g${on}`)));
  if (outs.length === 1) {
    outs[0].backward(gouts[0]);
  } else {
    let loss: Tensor | null = null;
    for (const [k, o] of outs.entries()) {
      if (!o.requiresGrad) continue;
      const term = o.mul(gouts[k]).sum();
      loss = loss === null ? term : loss.add(term);
    }
    loss?.backward();
  }
  for (const i of meta.grad) {
    const expected = fx.get(`${c}.grad${i}`);
    const g = inputs[i].grad;
    t.same(g?.shape ?? inputs[i].shape, expected.shape, `grad${i} shape`);
    assertClose(t, g ? g.data() : new Float64Array(inputs[i].size), expected.data, { rtol: tol.grad, name: `${c}.grad${i}` });
  }
}
