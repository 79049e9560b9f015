/**
 * `npm run bench [-- <suite> ...]`: run benchmark suites, each in its own process so one suite's
 * memory and JIT state do not colour the next. With no name, runs the core op suite.
 *
 *   npm run bench                 core ops (matmul, softmax, layerNorm, a transformer block)
 *   npm run bench -- toarray      Tensor.toArray() of 1M floats vs Array.from
 *   npm run bench -- matmul       matmul 128-2048 vs tfjs-wasm, onnxruntime and PyTorch
 *   npm run bench -- vit          ViT-B/16 block and image forward vs tfjs-wasm and PyTorch
 *   npm run bench -- fft          rfft2 / irfft2 on the SPT shapes: fft.js vs DFT-matmul vs torch.fft
 *   npm run bench -- sptseg       SPT-SEG ViT-B/16 forward at 512x512 vs PyTorch, with peak memory
 *   npm run bench -- sptseg-train one SPT-SEG ViT-B/16 training step at 512x512, batch 1
 *   npm run bench -- world        one pretraining step of the world's tiny CLIP vs its PyTorch twin
 *   npm run bench -- all          every suite
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SUITES: Record<string, string> = {
  core: 'bench/engine/core.bench.ts',
  toarray: 'bench/engine/toarray.bench.ts',
  matmul: 'bench/kernels/matmul.bench.ts',
  gpu: 'bench/gpu/matmul.bench.ts',
  clip: 'bench/model/clip.bench.ts',
  vit: 'bench/model/vit.bench.ts',
  fft: 'bench/engine/fft.bench.ts',
  sptseg: 'bench/model/sptseg.bench.ts',
  'sptseg-train': 'bench/model/sptseg-train.bench.ts',
  world: 'bench/model/world.bench.ts',
};

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
let names = args.filter((a) => !a.startsWith('--'));
if (names.length === 0) names = ['core'];
if (names.includes('all')) names = Object.keys(SUITES);

let failed = false;
for (const name of names) {
  const file = SUITES[name];
  if (!file) {
    console.error(`unknown suite "${name}"; known: ${Object.keys(SUITES).join(', ')}, all`);
    process.exit(2);
  }
  if (!existsSync(`${root}/${file}`)) {
    console.error(`suite "${name}" (${file}) is not in this checkout`);
    failed = true;
    continue;
  }
  console.log(`\n== ${name} (${file})`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', file, ...flags], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
