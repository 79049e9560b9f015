/**
 * ViT-B/16 speed against peers in the same run: one residual block forward + backward on
 * [1, 197, 768], and the full image tower forward at 224 (batch 1, ~35 GFLOP).
 *
 *   ours       model/vit.ts on the default fast backend (wasm: SIMD + all cores)
 *   tfjs-wasm  the image forward in tfjs-core ops on tfjs-backend-wasm (bench/peers/tfjs-vit.ts)
 *   PyTorch    /usr/bin/python3 with Debian's torch, threads = cores (bench/peers/torch_vit.py)
 *
 * Run: `npm run bench -- vit` (SPT_BENCH_ROUNDS rounds of ours-then-PyTorch, default 3). Prints a
 * table with the median ratio to PyTorch's time and its range over the rounds; writes
 * bench/results/vit.json. Random weights throughout: speed does not depend on their values.
 */
import { availableParallelism } from 'node:os';
import { manualSeed, noGrad, randn, tidy, useDevice } from '../../engine/index.ts';
import { ResidualAttentionBlock } from '../../model/blocks.ts';
import { VIT_B_16, VisionTransformer } from '../../model/vit.ts';
import { medianOf, medianSeconds, pythonPeer, ratioOverRounds, writeResults } from '../harness.ts';
import { tfjsVitPeer } from '../peers/tfjs-vit.ts';

const threads = availableParallelism();
const backend = useDevice();
manualSeed(0);

const block = new ResidualAttentionBlock(768, 12);
const x = randn([1, 197, 768], { requiresGrad: true });
const vit = new VisionTransformer(VIT_B_16).eval();
const image = randn([1, 3, 224, 224]);
const CASES = ['block fwd+bwd [1,197,768]', 'ViT-B/16 forward 224'] as const;
// Each call in a tidy scope, as a training step (train/loop.ts) and the CLI's inference run: the
// scope's arrays are reused by the next call (kernels/cpu/pool.ts).
const ours = (): number[] => [
  medianSeconds(() => tidy(() => {
    block.zeroGrad();
    block.forward(x).sum().backward();
  }, () => [...block.parameters(), x])),
  medianSeconds(() => { tidy(() => noGrad(() => vit.forward(image)).data()); }, 3, 3),
];
let torchLabel = '';
const torch = (): number[] | null => {
  try {
    const r = pythonPeer<{ version: string; blas: string; block_fwd_bwd: number; vit_forward_224: number }>('torch_vit.py', [threads]);
    if (!torchLabel) console.error(`PyTorch ${r.version} BLAS: ${r.blas}`);
    torchLabel = `PyTorch ${r.version} (${threads} thr)`;
    return [r.block_fwd_bwd, r.vit_forward_224];
  } catch (err) {
    console.warn(`PyTorch peer skipped (apt-get install python3-torch): ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
};

// On a shared machine one pair of timings can be off by tens of percent: SPT_BENCH_ROUNDS (default 3)
// repeats ours-then-PyTorch and reports the medians and the range of the ratios.
const R = Math.max(1, Number(process.env.SPT_BENCH_ROUNDS ?? 3));
const rounds = Array.from({ length: R }, () => ({ ours: ours(), torch: torch() }));
const tfjs = await tfjsVitPeer();
const tfjsSeconds = tfjs ? medianSeconds(tfjs.vitForward, 3, 3) : null;

const rows: Record<string, string | number | null>[] = [];
console.log(`\n### vit (${R} round${R > 1 ? 's' : ''})\n`);
console.log('| case | impl | ms | vs PyTorch (median of rounds) | range |');
console.log('|---|---|---:|---:|---:|');
CASES.forEach((name, c) => {
  const oursS = medianOf(rounds.map((r) => r.ours[c]));
  const torchTimes = rounds.map((r) => r.torch?.[c] ?? null);
  const ratio = ratioOverRounds(rounds.map((r) => r.ours[c]), torchTimes);
  const torchS = ratio ? medianOf(torchTimes as number[]) : null;
  rows.push({ case: name, impl: `ours (${backend.name})`, seconds: oursS, rounds: R, ratio: ratio?.ratio ?? null, ratioMin: ratio?.min ?? null, ratioMax: ratio?.max ?? null });
  console.log(`| ${name} | ours (${backend.name}) | ${(oursS * 1000).toFixed(1)} | ${ratio ? `${ratio.ratio.toFixed(2)}× its time` : ''} | ${ratio?.range ?? ''} |`);
  if (c === 1 && tfjs && tfjsSeconds !== null) {
    rows.push({ case: name, impl: tfjs.label, seconds: tfjsSeconds });
    console.log(`| ${name} | ${tfjs.label} | ${(tfjsSeconds * 1000).toFixed(1)} | ${torchS ? `${(tfjsSeconds / torchS).toFixed(2)}× its time` : ''} | |`);
  }
  if (torchS !== null) {
    rows.push({ case: name, impl: torchLabel, seconds: torchS, rounds: R });
    console.log(`| ${name} | ${torchLabel} | ${(torchS * 1000).toFixed(1)} | 1.00× | |`);
  }
});
writeResults('vit', rows);
process.exit(0); // the wasm worker pool and tfjs keep handles open
