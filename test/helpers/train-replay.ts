/**
 * Replay a PyTorch training run (test/fixtures/train/<name>.safetensors, written by
 * tools/reference/train_fixtures.py) on the active backend and compare the losses step by step.
 *
 * A fixture holds the initial weights (`param.<name>`), one batch (`x`, `y`), the optimizer's
 * settings in `__metadata__`, and PyTorch's loss (and, for mlp_sgd, clipped gradient norm) at every
 * step. The replay loads the weights into the same model written with spt-seg's nn modules, runs
 * the same steps, and reports the relative error of every loss.
 *
 * Shared by test/engine/optim/train.test.ts (reference CPU, 20 steps), test/engine/backends.test.ts
 * (every Node backend, 10 steps) and test/browser/training-page.ts (gpu.js shaders in Chromium), so
 * it imports nothing Node-only: the caller hands it the fixture's bytes. Each step runs inside
 * `tidy` (a no-op on CPU backends) and reads the loss with `dataAsync`, so the same loop runs on
 * WebGPU, whose reads are asynchronous only.
 */
import { causalMask, crossEntropy, dispose, gelu, scaledDotProductAttention, tensor, tidy, type Tensor } from '../../engine/index.ts';
import { parseSafetensors, toFloat64 } from '../../engine/io/safetensors.ts';
import { LayerNorm, Linear, Module } from '../../engine/nn/index.ts';
import { AdamW, clipGradNorm, SGD, type Optimizer } from '../../engine/optim/index.ts';

export const RUN_NAMES = ['mlp', 'mlp_sgd', 'block'] as const;
export type RunName = (typeof RUN_NAMES)[number];

export interface TrainRun {
  name: string;
  params: Map<string, Tensor>;
  x: Tensor;
  y: Tensor;
  lr: number;
  optimizer: string;
  /** PyTorch's loss before each step's update. */
  losses: number[];
  /** PyTorch's total gradient norm before clipping to 0.5 (runs that clip only). */
  gradNorms: number[] | null;
}

/** Parse a fixture into tensors on the active backend. */
export function loadRun(name: string, bytes: Uint8Array): TrainRun {
  const { tensors, metadata } = parseSafetensors(bytes, `${name}.safetensors`);
  const get = (key: string, dtype: 'float32' | 'int32' = 'float32'): Tensor => {
    const raw = tensors.get(key);
    if (!raw) throw new Error(`${name}: fixture has no tensor "${key}"`);
    return tensor(toFloat64(raw, key), raw.shape, { dtype });
  };
  const params = new Map<string, Tensor>();
  for (const key of tensors.keys()) if (key.startsWith('param.')) params.set(key.slice(6), get(key));
  const norms = tensors.get('grad_norms');
  return {
    name, params, x: get('x'), y: get('y', 'int32'), lr: Number(metadata.lr), optimizer: metadata.optimizer,
    losses: Array.from(toFloat64(tensors.get('losses')!)), gradNorms: norms ? Array.from(toFloat64(norms)) : null,
  };
}

// -- the models, with tools/reference/train_fixtures.py's module names --------------------------

export class MLP extends Module {
  fc1 = new Linear(8, 32);
  fc2 = new Linear(32, 4);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(gelu(this.fc1.forward(x)));
  }
}

export class Block extends Module {
  ln_1 = new LayerNorm(16);
  qkv = new Linear(16, 48);
  proj = new Linear(16, 16);
  ln_2 = new LayerNorm(16);
  fc1 = new Linear(16, 64);
  fc2 = new Linear(64, 16);
  head = new Linear(16, 5);
  forward(x: Tensor): Tensor {
    const [b, n, d] = x.shape; // B batch, N tokens, D width; H heads of width E
    const h = 2, e = d / h;
    const [q, k, v] = this.qkv.forward(this.ln_1.forward(x)).chunk(3, -1) // 3 × [B, N, D]
      .map((z) => z.reshape([b, n, h, e]).transpose(1, 2)); // [B, H, N, E]
    const a = scaledDotProductAttention(q, k, v, { mask: causalMask(n, x) }); // [B, H, N, E]
    x = x.add(this.proj.forward(a.transpose(1, 2).reshape([b, n, d])));
    x = x.add(this.fc2.forward(gelu(this.fc1.forward(this.ln_2.forward(x)))));
    return this.head.forward(x); // [B, N, C]
  }
}

export function makeModel(name: string): Module & { forward(x: Tensor): Tensor } {
  return name === 'block' ? new Block() : new MLP();
}

// -- the replay -------------------------------------------------------------------------------------

export interface ReplayOptions {
  /** Steps to run (default: all the fixture has). */
  steps?: number;
  /** Called (and awaited) after each step, e.g. to count live device buffers. */
  afterStep?: (step: number) => void | Promise<void>;
}

export interface ReplayResult {
  losses: number[];
  expected: number[];
  /** |loss - PyTorch| / |PyTorch| per step. */
  relErrors: number[];
  /** The same for the gradient norm, on runs that clip (empty otherwise). */
  normRelErrors: number[];
  worst: number;
}

/**
 * Run the fixture's optimizer steps on the active backend. The model is built and loaded inside a
 * `tidy` scope (so its random initial weights are freed on a GPU), and each step is one scope that
 * keeps the parameters and the optimizer state. The run is consumed: its tensors, the model and the
 * optimizer state are disposed at the end.
 */
export async function replay(run: TrainRun, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const steps = Math.min(opts.steps ?? run.losses.length, run.losses.length);
  const model = makeModel(run.name);
  tidy(() => { model.loadStateDict(run.params); }, () => model.parameters());
  const params = model.parameters();
  const opt: Optimizer = run.optimizer === 'sgd'
    ? new SGD(params, { lr: run.lr, momentum: 0.9, weightDecay: 1e-3 })
    : new AdamW(params, { lr: run.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
  const out: ReplayResult = { losses: [], expected: run.losses.slice(0, steps), relErrors: [], normRelErrors: [], worst: 0 };
  for (let step = 0; step < steps; step++) {
    const loss = tidy(() => {
      opt.zeroGrad();
      const logits = model.forward(run.x);
      const c = logits.shape[logits.ndim - 1];
      const loss = crossEntropy(logits.reshape([-1, c]), run.y.reshape([-1]));
      loss.backward();
      if (run.gradNorms) {
        const norm = clipGradNorm(params, 0.5); // reads synchronously: not for WebGPU
        out.normRelErrors.push(Math.abs(norm - run.gradNorms[step]) / run.gradNorms[step]);
      }
      opt.step();
      return loss.detach();
    }, () => [...params, ...opt.stateTensors()]);
    const value = (await loss.dataAsync())[0];
    dispose(loss);
    const expected = run.losses[step];
    out.losses.push(value);
    out.relErrors.push(Math.abs(value - expected) / Math.abs(expected));
    await opts.afterStep?.(step);
  }
  // Free everything the run holds (on the CPU backends: recycles what tidy scopes made): on a GPU, device memory is back
  // where it was before `loadRun`.
  dispose([...params, ...params.map((p) => p.grad), ...opt.stateTensors(), ...run.params.values(), run.x, run.y]);
  out.worst = Math.max(0, ...out.relErrors);
  return out;
}
