/**
 * ViT-B/16 speed against peers in the same run: one residual block forward + backward on
 * [1, 197, 768], and the full image tower forward at 224 (batch 1, ~35 GFLOP).
 *
 *   ours       model/vit.ts on the default fast backend (wasm: SIMD + all cores)
 *   tfjs-wasm  the image forward in tfjs-core ops on tfjs-backend-wasm (bench/peers/tfjs-vit.ts)
 *   PyTorch    /usr/bin/python3 with Debian's torch, threads = cores (bench/peers/torch_vit.py)
 *
 * Run: `npm run bench -- vit`. Prints a table with each time's ratio to PyTorch's; writes
 * bench/results/vit.json. Random weights throughout: speed does not depend on their values.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { manualSeed, noGrad, randn, tidy, useDevice } from '../../engine/index.ts';
import { ResidualAttentionBlock } from '../../model/blocks.ts';
import { VIT_B_16, VisionTransformer } from '../../model/vit.ts';
import { medianSeconds, writeResults } from '../harness.ts';
import { tfjsVitPeer } from '../peers/tfjs-vit.ts';

const threads = availableParallelism();
const backend = useDevice();
manualSeed(0);

const rows: { case: string; impl: string; seconds: number }[] = [];
const block = new ResidualAttentionBlock(768, 12);
const x = randn([1, 197, 768], { requiresGrad: true });
// Each call in a tidy scope, as a training step (train/loop.ts) and the CLI's inference run: the
// scope's arrays are reused by the next call (kernels/cpu/pool.ts).
rows.push({ case: 'block fwd+bwd [1,197,768]', impl: `ours (${backend.name})`, seconds: medianSeconds(() => tidy(() => {
  block.zeroGrad();
  block.forward(x).sum().backward();
}, () => [...block.parameters(), x])) });
const vit = new VisionTransformer(VIT_B_16).eval();
const image = randn([1, 3, 224, 224]);
rows.push({ case: 'ViT-B/16 forward 224', impl: `ours (${backend.name})`, seconds: medianSeconds(() => { tidy(() => noGrad(() => vit.forward(image)).data()); }, 3, 3) });

const tfjs = await tfjsVitPeer();
if (tfjs) {
  rows.push({ case: 'ViT-B/16 forward 224', impl: tfjs.label, seconds: medianSeconds(tfjs.vitForward, 3, 3) });
}

try {
  const script = new URL('../peers/torch_vit.py', import.meta.url).pathname;
  const torch = JSON.parse(execFileSync('/usr/bin/python3', [script, String(threads)], { encoding: 'utf8' })) as
    { version: string; blas: string; block_fwd_bwd: number; vit_forward_224: number };
  console.error(`PyTorch ${torch.version} BLAS: ${torch.blas}`);
  rows.push({ case: 'block fwd+bwd [1,197,768]', impl: `PyTorch ${torch.version} (${threads} thr)`, seconds: torch.block_fwd_bwd });
  rows.push({ case: 'ViT-B/16 forward 224', impl: `PyTorch ${torch.version} (${threads} thr)`, seconds: torch.vit_forward_224 });
} catch (err) {
  console.warn(`PyTorch peer skipped (apt-get install python3-torch): ${(err as Error).message.split('\n')[0]}`);
}

console.log('\n### vit\n');
console.log('| case | impl | ms | vs PyTorch |');
console.log('|---|---|---:|---:|');
for (const r of rows) {
  const torch = rows.find((o) => o.case === r.case && o.impl.startsWith('PyTorch'));
  const ratio = torch ? `${(r.seconds / torch.seconds).toFixed(2)}× its time` : '';
  console.log(`| ${r.case} | ${r.impl} | ${(r.seconds * 1000).toFixed(1)} | ${ratio} |`);
}
writeResults('vit', rows);
process.exit(0); // the wasm worker pool and tfjs keep handles open
