/**
 * SPT-SEG ViT-B/16 forward at 512x512 against PyTorch in the same run, with peak memory: batch 1,
 * 20 classes (VOC), random weights (speed does not depend on their values), eval mode, no gradients.
 * The forward is the whole model: the SPT image encoder (1 + 10 + 1024 tokens through 12 blocks,
 * spectral prompt at blocks 0 and 1), the 3-layer HiLo decoder and the upsampling to 512x512.
 *
 *   ours     model/segmenter.ts on the default fast backend (wasm: SIMD + all cores)
 *   PyTorch  /usr/bin/python3 with Debian's torch, threads = cores (bench/peers/torch_sptseg.py)
 *
 * Peak memory is each process's peak resident set (ours: process.resourceUsage().maxRSS, which includes
 * the node runtime; PyTorch: getrusage ru_maxrss, which includes the Python runtime). One warm-up and
 * SPT_BENCH_RUNS (default 1) timed runs each: a forward takes seconds on a 2-core machine.
 * Run: `npm run bench -- sptseg`. Writes bench/results/sptseg.json.
 */
import { availableParallelism } from 'node:os';
import { manualSeed, noGrad, normalize, randn, useDevice } from '../../engine/index.ts';
import { SptSeg, VOC_VIT_B16 } from '../../model/segmenter.ts';
import { pythonPeer, writeResults } from '../harness.ts';

const threads = availableParallelism();
const runs = Number(process.env.SPT_BENCH_RUNS ?? 1);
const backend = useDevice();
manualSeed(0);

const model = new SptSeg(VOC_VIT_B16).eval();
const image = randn([1, 3, 512, 512]);
const text = normalize(randn([20, 512]), { dim: -1 });
const forward = () => noGrad(() => model.predMasks(image, text)).data();

const rows: { case: string; impl: string; seconds: number; peakMiB: number }[] = [];
forward(); // warm-up (wasm compilation, worker pool)
const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  forward();
  times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
rows.push({
  case: 'SPT-SEG ViT-B/16 forward 512', impl: `ours (${backend.name})`, seconds: times[times.length >> 1],
  peakMiB: process.resourceUsage().maxRSS / 1024,
});

try {
  const torch = pythonPeer<{ version: string; forward_512: number; peak_rss_mib: number }>('torch_sptseg.py', [threads, runs]);
  rows.push({ case: 'SPT-SEG ViT-B/16 forward 512', impl: `PyTorch ${torch.version} (${threads} thr)`, seconds: torch.forward_512, peakMiB: torch.peak_rss_mib });
} catch (err) {
  console.warn(`PyTorch peer skipped (apt-get install python3-torch): ${(err as Error).message.split('\n')[0]}`);
}

console.log('\n### sptseg\n');
console.log('| case | impl | s | peak RSS MiB | vs PyTorch |');
console.log('|---|---|---:|---:|---:|');
for (const r of rows) {
  const torch = rows.find((o) => o.impl.startsWith('PyTorch'));
  const ratio = torch ? `${(r.seconds / torch.seconds).toFixed(2)}× its time` : '';
  console.log(`| ${r.case} | ${r.impl} | ${r.seconds.toFixed(2)} | ${r.peakMiB.toFixed(0)} | ${ratio} |`);
}
writeResults('sptseg', rows);
process.exit(0); // the wasm worker pool keeps handles open
