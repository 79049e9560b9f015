/**
 * Reverse-mode automatic differentiation: the graph node type, grad mode, and `backward`.
 *
 * Every op that produces a tensor from inputs that require grad attaches a `GradNode`: its inputs
 * and a closure mapping the output gradient to one gradient per input (or null). `backward` sorts
 * the graph topologically with an explicit stack (a chain of 100,000 ops must not overflow the JS
 * call stack), walks it in reverse, sums the gradients of tensors used more than once, and adds the
 * result into `.grad` of the leaves, as PyTorch does.
 *
 * After a backward without `retainGraph`, each node it went through is *released*: its closure (and
 * the tensors the closure saved) and its input links are dropped, and the tensor keeps a marker node
 * instead. A later backward that reaches a released node throws, as PyTorch's "Trying to backward
 * through the graph a second time" does, rather than treating the tensor as a leaf and silently
 * stopping there.
 *
 * Each leaf's `.grad` is a Tensor object of its own: two leaves never share one (an `add` hands the
 * same gradient to both inputs), so replacing one leaf's grad (clipping, `assign`) never changes
 * another's. Storages are never mutated in place, so the objects may share numbers.
 *
 * Not here: the arithmetic of any op (each op's backward lives in its own file under `ops/`).
 */
import type { Tensor } from './tensor.ts';

/** The autograd record an op leaves on its output: its inputs and how to map the output's gradient to theirs. */
export interface GradNode {
  /** The op's name, for error messages ("mul", "matmul", ...). */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Gradient of the loss with respect to each input, given the gradient w.r.t. the output. */
  readonly backward: (grad: Tensor) => readonly (Tensor | null)[];
  /** True once a backward without `retainGraph` has freed this node (`inputs` is then empty). */
  readonly released?: boolean;
}

/** What a node becomes after a backward that did not retain the graph. */
function releasedNode(op: string): GradNode {
  return {
    op, inputs: [], released: true,
    backward: () => { throw new Error(`internal: backward of released node "${op}"`); },
  };
}

function secondBackwardError(op: string): Error {
  return new Error(
    `Trying to backward through the graph a second time (through "${op}"): its intermediate results were `
    + 'freed by the first backward(). Pass { retainGraph: true } to the first backward() call if you need to '
    + 'backward through the graph again (e.g. `a.backward({ retainGraph: true }); b.backward()`).',
  );
}

let gradEnabled = true;

/**
 * Whether ops record autograd nodes right now (false inside `noGrad`).
 *
 * @example
 * noGrad(() => isGradEnabled());   // false
 */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Run `fn` without recording a graph (inference, optimizer updates, backward itself).
 *
 * @example
 * const y = noGrad(() => w.mul(2));   // y.requiresGrad === false
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Run `fn` with graph recording on, even inside `noGrad`.
 *
 * @example
 * noGrad(() => enableGrad(() => w.mul(2)));   // recorded again: requiresGrad === true
 */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Tensors reachable from `root` through grad nodes, inputs before the tensors made from them. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Each stack entry is a tensor and the index of the next input to visit.
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, next] = top;
    const inputs = t.gradNode?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const input = inputs[next];
      if (input.requiresGrad && !visited.has(input)) {
        visited.add(input);
        stack.push([input, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/** Options of `Tensor.backward` (torch's `retain_graph`). */
export interface BackwardOptions {
  /** Keep the graph so that backward can run through it again (default false: it is released). */
  retainGraph?: boolean;
}

export function backward(root: Tensor, grad: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error('backward() called on a tensor that does not require grad (was it made inside noGrad, or from leaves without requiresGrad?)');
  }
  const order = topologicalOrder(root);
  for (const t of order) if (t.gradNode?.released) throw secondBackwardError(t.gradNode.op);
  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      grads.delete(t);
      if (g === undefined) continue;
      const node = t.gradNode;
      if (node === null) {
        // A leaf: accumulate, as repeated backward calls do in PyTorch. A fresh Tensor object over
        // the (immutable) storage, so that no two leaves, and no leaf and the caller, share one.
        t.grad = t.grad === null ? g.detach() : t.grad.add(g);
        continue;
      }
      const inputGrads = node.backward(g);
      node.inputs.forEach((input, k) => {
        const gi = inputGrads[k];
        if (gi === null || gi === undefined || !input.requiresGrad) return;
        if (!sameShape(gi.shape, input.shape)) {
          throw new Error(`internal: backward of "${node.op}" gave a gradient of shape [${gi.shape}] for input ${k} of shape [${input.shape}]`);
        }
        const prev = grads.get(input);
        grads.set(input, prev === undefined ? gi : prev.add(gi));
      });
      if (!opts.retainGraph) t.gradNode = releasedNode(node.op);
    }
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
