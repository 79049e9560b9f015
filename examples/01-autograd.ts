/**
 * Chapter 1 example: build a small graph, print it, walk it backward, check the gradients by
 * central finite differences.  Run: `npx tsx examples/01-autograd.ts`.
 *
 * The expression is a one-neuron layer with a squared-error loss,
 *     loss = Σ (tanh(x @ w + b) - y)²        x [N, I], w [I, O], b [O], y [N, O]
 * in float64, so that finite differences agree with autograd to ~1e-9.
 *
 * Does: print every node `backward` will visit (inputs before outputs, as `topologicalOrder` in
 * engine/autograd.ts sorts them), the gradients of w and b, and the largest difference from
 *     dL/dθ_j ≈ (L(θ + ε e_j) - L(θ - ε e_j)) / 2ε.
 * Does not: use the test helper `gradcheck` (test/helpers/gradcheck.ts does the same check for every
 * op in the test suite, with a random weighting of the output); here it is spelled out.
 */
import { manualSeed, noGrad, randn, setBackend, tensor, type Tensor } from '../engine/index.ts';

setBackend('cpu'); // the reference kernels: plain loops, the same numbers on every machine
manualSeed(0);

const opts = { dtype: 'float64', requiresGrad: true } as const;
const x = randn([4, 3], { dtype: 'float64' }); // [N, I] inputs (no grad: data)
const y = randn([4, 2], { dtype: 'float64' }); // [N, O] targets
const w = randn([3, 2], opts); // [I, O] weight, a leaf that requires grad
const b = randn([2], opts); // [O] bias

function loss(wt: Tensor, bt: Tensor): Tensor {
  return x.matmul(wt).add(bt).tanh().sub(y).pow(2).sum(); // [] a scalar
}

// 1. Build the graph: every op on a tensor that requires grad records a GradNode.
const L = loss(w, b);

// 2. Print it: the graph is the `gradNode.inputs` links, walked depth first from the loss. This is
// the order `topologicalOrder` (engine/autograd.ts) computes, written recursively for brevity (the
// engine uses an explicit stack so that very deep graphs cannot overflow the call stack).
const names = new Map<Tensor, string>([[x, 'x'], [y, 'y'], [w, 'w'], [b, 'b']]);
const order: Tensor[] = [];
const seen = new Set<Tensor>();
(function visit(t: Tensor): void {
  if (seen.has(t)) return;
  seen.add(t);
  for (const input of t.gradNode?.inputs ?? []) if (input.requiresGrad) visit(input);
  order.push(t);
})(L);
const label = (t: Tensor): string => names.get(t) ?? `t${t.id}`;
console.log('graph (inputs before outputs):');
for (const t of order) {
  const node = t.gradNode;
  const what = node === null ? 'leaf' : `${node.op}(${node.inputs.map(label).join(', ')})`;
  console.log(`  ${label(t).padEnd(5)} [${t.shape.join(', ')}] = ${what}`);
}
console.log(`nodes: ${order.length}`);

// 3. Walk it backward: grads flow from the loss to the leaves, in reverse topological order.
L.backward();
const gw = w.grad!.toArray();
const gb = b.grad!.toArray();
console.log(`loss = ${L.item().toFixed(6)}`);
console.log(`dL/dw = [${gw.map((v) => v.toFixed(6)).join(', ')}]`);
console.log(`dL/db = [${gb.map((v) => v.toFixed(6)).join(', ')}]`);

// 4. Check by central differences: nudge one element of a leaf at a time, re-run the forward.
const eps = 1e-6;
function numericalGrad(leaf: Tensor, f: (nudged: Tensor) => Tensor): number[] {
  const base = leaf.toArray();
  return base.map((_, j) => noGrad(() => {
    const at = (delta: number): number => {
      const v = base.slice();
      v[j] += delta;
      return f(tensor(v, leaf.shape, { dtype: 'float64' })).item();
    };
    return (at(eps) - at(-eps)) / (2 * eps);
  }));
}
const nw = numericalGrad(w, (wt) => loss(wt, b));
const nb = numericalGrad(b, (bt) => loss(w, bt));
const maxDiff = (a: number[], e: number[]): number => Math.max(...a.map((v, j) => Math.abs(v - e[j])));
const errW = maxDiff(gw, nw);
const errB = maxDiff(gb, nb);
console.log(`finite differences (eps = ${eps}): max |autograd - numerical| w ${errW.toExponential(2)}, b ${errB.toExponential(2)}`);
const ok = Math.max(errW, errB) < 1e-7;
console.log(`gradient check: ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
