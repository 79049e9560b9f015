// 20 AdamW steps of an MLP and of a pre-LN transformer block, replayed from PyTorch's initial
// weights and data (tools/reference/train_fixtures.py): the loss must match at every step.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { causalMask, crossEntropy, gelu, scaledDotProductAttention, tensor, type Tensor } from '../../../engine/index.ts';
import { LayerNorm, Linear, Module } from '../../../engine/nn/index.ts';
import { AdamW, clipGradNorm, SGD, type Optimizer } from '../../../engine/optim/index.ts';
import { parseSafetensors, toFloat64 } from '../../../engine/io/safetensors.ts';

function loadRun(name: string) {
  const path = new URL(`../../fixtures/train/${name}.safetensors`, import.meta.url);
  const { tensors, metadata } = parseSafetensors(new Uint8Array(readFileSync(path)), path.pathname);
  const get = (key: string, dtype: 'float32' | 'int32' = 'float32'): Tensor => {
    const raw = tensors.get(key);
    if (!raw) throw new Error(`${name}: fixture has no tensor "${key}"`);
    return tensor(toFloat64(raw, key), raw.shape, { dtype });
  };
  const params = new Map<string, Tensor>();
  for (const key of tensors.keys()) if (key.startsWith('param.')) params.set(key.slice(6), get(key));
  const norms = tensors.get('grad_norms');
  return {
    params, x: get('x'), y: get('y', 'int32'), lr: Number(metadata.lr), optimizer: metadata.optimizer,
    losses: Array.from(toFloat64(tensors.get('losses')!)), gradNorms: norms ? Array.from(toFloat64(norms)) : null,
  };
}

class MLP extends Module {
  fc1 = new Linear(8, 32);
  fc2 = new Linear(32, 4);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(gelu(this.fc1.forward(x)));
  }
}

class Block extends Module {
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

const RUNS = [['mlp', () => new MLP()], ['mlp_sgd', () => new MLP()], ['block', () => new Block()]] as const;
for (const [name, make] of RUNS) {
  t.test(`${name}: 20 optimizer steps match PyTorch's losses`, async (t) => {
    const run = loadRun(name);
    const model = make();
    model.loadStateDict(run.params);
    const opt: Optimizer = run.optimizer === 'sgd'
      ? new SGD(model.parameters(), { lr: run.lr, momentum: 0.9, weightDecay: 1e-3 })
      : new AdamW(model.parameters(), { lr: run.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
    let worst = 0;
    for (const [step, expected] of run.losses.entries()) {
      opt.zeroGrad();
      const logits = model.forward(run.x);
      const c = logits.shape[logits.ndim - 1];
      const loss = crossEntropy(logits.reshape([-1, c]), run.y.reshape([-1]));
      loss.backward();
      if (run.gradNorms) {
        const norm = clipGradNorm(model.parameters(), 0.5);
        const relNorm = Math.abs(norm - run.gradNorms[step]) / run.gradNorms[step];
        if (relNorm > 1e-4) t.fail(`step ${step}: gradient norm ${norm} vs PyTorch ${run.gradNorms[step]}`);
      }
      opt.step();
      const rel = Math.abs(loss.item() - expected) / Math.abs(expected);
      worst = Math.max(worst, rel);
      if (rel > 1e-4) t.fail(`step ${step}: loss ${loss.item()} vs PyTorch ${expected} (relative error ${rel.toExponential(2)})`);
    }
    t.ok(worst <= 1e-4, `worst relative loss error over ${run.losses.length} steps: ${worst.toExponential(2)}`);
  });
}
