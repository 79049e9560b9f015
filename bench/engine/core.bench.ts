/**
 * Core op benchmarks on the backends available here: matmul 256/512/1024, softmax, layerNorm and
 * one transformer block (ViT-B/16 width, 197 tokens) forward + backward.
 * Run: `npm run bench` (or `npx tsx bench/engine/core.bench.ts`); results in bench/results/core.json.
 */
import { layerNorm, noGrad, ones, randn, setBackend, zeros, type Tensor } from '../../engine/index.ts';
import { LayerNorm, Linear, Module } from '../../engine/nn/index.ts';
import { scaledDotProductAttention } from '../../engine/index.ts';
import { availableBackends } from '../backends.ts';
import { runSuite, type BenchCase } from '../harness.ts';

class Block extends Module {
  ln_1: LayerNorm; qkv: Linear; proj: Linear; ln_2: LayerNorm; fc1: Linear; fc2: Linear;
  constructor(readonly d: number, readonly heads: number) {
    super();
    this.ln_1 = new LayerNorm(d); this.qkv = new Linear(d, 3 * d); this.proj = new Linear(d, d);
    this.ln_2 = new LayerNorm(d); this.fc1 = new Linear(d, 4 * d); this.fc2 = new Linear(4 * d, d);
  }
  forward(x: Tensor): Tensor {
    const [b, n, d] = x.shape, h = this.heads, e = d / h;
    const [q, k, v] = this.qkv.forward(this.ln_1.forward(x)).chunk(3, -1).map((z) => z.reshape([b, n, h, e]).transpose(1, 2));
    x = x.add(this.proj.forward(scaledDotProductAttention(q, k, v).transpose(1, 2).reshape([b, n, d])));
    return x.add(this.fc2.forward(this.fc1.forward(this.ln_2.forward(x)).quickGelu()));
  }
}

const quick = process.argv.includes('--quick');
const cases: BenchCase[] = [];
for (const { name, backend } of await availableBackends()) {
  setBackend(backend);
  for (const n of quick ? [256] : [256, 512, 1024]) {
    if (name === 'cpu' && n > 512) continue; // the reference loops take seconds per call at 1024
    const a = randn([n, n]), b = randn([n, n]);
    cases.push({ group: `matmul ${n}`, impl: name, flops: 2 * n ** 3, fn: () => { a.matmul(b).data(); } });
  }
  const s = randn([12, 197, 197]);
  cases.push({ group: 'softmax [12,197,197]', impl: name, fn: () => { noGrad(() => s.softmax(-1)).data(); } });
  const x = randn([197, 768]), w = ones([768]), bias = zeros([768]);
  cases.push({ group: 'layerNorm [197,768]', impl: name, fn: () => { noGrad(() => layerNorm(x, w, bias)).data(); } });
  if (!quick && name !== 'cpu') {
    const block = new Block(768, 12);
    const tokens = randn([1, 197, 768]);
    // 2·N·D·(3D + D + 8D) matmul flops + 2·2·N²·D attention, ×3 for forward + backward
    const flops = 3 * (2 * 197 * 768 * 12 * 768 + 4 * 197 * 197 * 768);
    cases.push({ group: 'ViT-B block fwd+bwd', impl: name, flops, fn: () => { block.zeroGrad(); block.forward(tokens).sum().backward(); } });
  }
}
runSuite('core', cases, { baseline: 'cpu' });
