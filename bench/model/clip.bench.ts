/**
 * CLIP ViT-B/16 at full size: checkpoint handling and the image forward at 224x224, on every backend
 * available here (the reference "cpu" always; "wasm" when it loads), with peak memory.
 *
 * Steps: build a random CLIP ViT-B/16 (149.6 M parameters) in TS, save it as OpenAI-layout
 * safetensors without metadata (so the config must be inferred), `convertCheckpoint` it, then per
 * backend load the converted file and time encodeImage on one 224x224 image (the first call, and a
 * second one where the first took under 30 s). Nothing is committed; the files live in a temp dir.
 * Memory: the process RSS after a garbage collection before each stage, its peak sampled every 10 ms
 * by a worker thread (the forward blocks the main thread), and Linux's VmHWM (the exact peak since a
 * reset through /proc/self/clear_refs) where /proc allows it.
 *
 * The load is also timed in a fresh Node process per backend (its VmHWM is then the load's peak plus
 * Node itself: the figure to hold against the file size, issue 16's ≤ 1.5×).
 * Peer: PyTorch's `torch.load` of a state dict of the same size (float32, the same shapes), timed in
 * a child process in the same run where /usr/bin/python3 has torch (skipped with a note otherwise).
 *
 * Run: `npm run bench -- clip` or `npx tsx bench/model/clip.bench.ts [--quick] [--load-only]`
 *   --quick: image 64x64 instead of 224 on the reference cpu backend (~85 s at 224 there).
 *   --load-only: only the loads (ours per backend, torch.load), from a zero-weight file written
 *     under skipInit (what a load costs does not depend on the values): seconds, not minutes.
 * Writes bench/results/clip.json (with --load-only: clip-load.json).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { manualSeed, noGrad, randn, setBackend } from '../../engine/index.ts';
import { serializeSafetensors, type RawTensor } from '../../engine/io/safetensors.ts';
import { skipInit } from '../../engine/nn/index.ts';
import { CLIP, CLIP_VIT_B_16, convertCheckpoint, loadClip, serializeClip, type ViTConfig } from '../../model/index.ts';
import { availableBackends } from '../backends.ts';
import { writeResults } from '../harness.ts';

/** Multiply-adds ×2 of the ViT image tower on an H x W image (matmuls and attention; no norms). */
function vitFlops(c: ViTConfig, H: number, W: number): number {
  const N = Math.floor(H / c.patchSize) * Math.floor(W / c.patchSize), T = N + 1, D = c.width;
  const patch = N * 3 * c.patchSize ** 2 * D;
  const block = T * D * 3 * D + 2 * T * T * D + T * D * D + 2 * T * D * 4 * D;
  return 2 * (patch + c.layers * block + D * c.outputDim);
}

/** Peak RSS sampler on a worker thread: `reset()`, run synchronous work, `await peak()`. */
function rssSampler() {
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    let peak = 0;
    const tick = () => { peak = Math.max(peak, process.memoryUsage.rss()); };
    setInterval(tick, 10);
    parentPort.on('message', (m) => { tick(); parentPort.postMessage(peak); if (m === 'reset') peak = 0; });
  `, { eval: true });
  const ask = (m: string) => new Promise<number>((resolve) => { worker.once('message', resolve); worker.postMessage(m); });
  return { reset: () => ask('reset'), peak: () => ask('peak'), stop: () => worker.terminate() };
}

/** Linux: reset the kernel's peak-RSS counter (VmHWM); false where that is not allowed. */
function resetHwm(): boolean {
  try { writeFileSync('/proc/self/clear_refs', '5'); return true; } catch { return false; }
}
function hwm(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch { return null; }
}

/** A garbage collection before each stage, so that "RSS before" is what the process really holds. */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface Row {
  stage: string; backend: string; seconds: number; gflops: number | null;
  rssBeforeMiB: number; peakRssMiB: number; vmHwmMiB: number | null; note: string;
}
const rows: Row[] = [];
const sampler = rssSampler();
const MiB = 2 ** 20;

/** Time `fn` (sync or async) and record its peak memory. */
async function measure<T>(stage: string, backend: string, fn: () => T | Promise<T>, flops: number | null = null, note = ''): Promise<T> {
  gc();
  const before = process.memoryUsage.rss();
  await sampler.reset();
  const canHwm = resetHwm();
  const t0 = performance.now();
  const out = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const peak = Math.max(await sampler.peak(), before);
  const h = canHwm ? hwm() : null;
  rows.push({
    stage, backend, seconds, gflops: flops === null ? null : flops / seconds / 1e9,
    rssBeforeMiB: before / MiB, peakRssMiB: peak / MiB, vmHwmMiB: h === null ? null : h / MiB, note,
  });
  process.stderr.write(`  ${stage} [${backend}]: ${seconds.toFixed(2)} s, peak RSS ${(peak / MiB).toFixed(0)} MiB\n`);
  return out;
}

/**
 * PyTorch's side: torch.save a state dict with `shapes` (float32 zeros, written untimed), then time
 * torch.load of it in a fresh process, with that process's peak RSS (ru_maxrss). Null without torch.
 */
function torchLoad(shapes: number[][], dir: string): { seconds: number; peakMiB: number; fileMiB: number } | null {
  const script = `
import json, os, resource, sys, time, torch
shapes = json.load(sys.stdin)
path = os.path.join(sys.argv[1], 'state.pt')
torch.save({f'w{i}': torch.zeros(s) for i, s in enumerate(shapes)}, path)
code = "import resource, sys, time, torch; t = time.perf_counter(); sd = torch.load(sys.argv[1]); " \
  "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
import subprocess
out = subprocess.run([sys.executable, '-c', code, path], capture_output=True, text=True, check=True).stdout.split()
print(json.dumps({'seconds': float(out[0]), 'peakMiB': int(out[1]) / 1024, 'fileMiB': os.path.getsize(path) / 2**20}))
os.remove(path)
`;
  const res = spawnSync('/usr/bin/python3', ['-c', script, dir], { input: JSON.stringify(shapes), encoding: 'utf8', timeout: 600_000 });
  if (res.status !== 0) {
    process.stderr.write(`  torch.load peer skipped: ${(res.stderr || res.error?.message || 'no python3').trim().split('\n').pop()}\n`);
    return null;
  }
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as { seconds: number; peakMiB: number; fileMiB: number };
}

/**
 * `loadClip` in a fresh Node process (this file run with `--child-load <file> <backend>`), so its
 * peak (VmHWM) is the load's alone plus Node itself, as torch.load's is below: the parent's RSS
 * holds memory freed by earlier stages that the allocator has not returned.
 */
async function childLoad(file: string, backend: string): Promise<{ seconds: number; peakMiB: number; startMiB: number } | null> {
  const res = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child-load', file, backend], { encoding: 'utf8', timeout: 600_000 });
  if (res.status !== 0) {
    process.stderr.write(`  fresh-process load [${backend}] failed: ${(res.stderr || res.error?.message || '').trim().split('\n').pop()}\n`);
    return null;
  }
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as { seconds: number; peakMiB: number; startMiB: number };
}
const child = process.argv.indexOf('--child-load');
if (child >= 0) {
  const [file, want] = process.argv.slice(child + 1);
  const found = (await availableBackends()).find((b) => b.name === want);
  if (!found) throw new Error(`backend "${want}" is not available here`);
  setBackend(found.backend);
  const startMiB = process.memoryUsage.rss() / MiB;
  resetHwm();
  const t0 = performance.now();
  const clip = await loadClip(file);
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ seconds, peakMiB: (hwm() ?? process.memoryUsage.rss()) / MiB, startMiB, params: clip.numParameters() }));
  process.exit(0);
}

const quick = process.argv.includes('--quick');
const loadOnly = process.argv.includes('--load-only');
const dir = mkdtempSync(join(tmpdir(), 'spt-seg-clip-bench-'));
const raw = join(dir, 'clip-b16-openai.safetensors'), converted = join(dir, 'clip-b16.safetensors');
try {
  manualSeed(0);
  if (loadOnly) {
    await measure('write zero-weight converted file', 'cpu', () => writeFileSync(converted, serializeClip(skipInit(() => new CLIP(CLIP_VIT_B_16)))));
    rows[rows.length - 1].note = `${(statSync(converted).size / MiB).toFixed(0)} MiB file`;
  } else {
    let model: CLIP | null = await measure('build random CLIP ViT-B/16', 'cpu', () => new CLIP(CLIP_VIT_B_16));
    await measure('save OpenAI-layout safetensors', 'cpu', () => {
      const tensors = new Map<string, RawTensor>();
      for (const [k, t] of model!.stateDict()) tensors.set(k, { dtype: 'F32', shape: [...t.shape], data: t.data() as Float32Array });
      writeFileSync(raw, serializeSafetensors(tensors)); // no __metadata__: convert must infer the config
    });
    model = null; // the random model can be collected from here on
    rows[rows.length - 1].note = `${(statSync(raw).size / MiB).toFixed(0)} MiB file`;
    await measure('convert (infer config, check, write)', 'cpu', () => convertCheckpoint(raw, converted));
    rows[rows.length - 1].note = `${(statSync(converted).size / MiB).toFixed(0)} MiB file`;
    rmSync(raw);
  }

  const fileMiB = statSync(converted).size / MiB;
  for (const { name } of await availableBackends()) {
    const r = await childLoad(converted, name);
    if (r === null) continue;
    rows.push({
      stage: 'load converted file (fresh process)', backend: name, seconds: r.seconds, gflops: null,
      rssBeforeMiB: r.startMiB, peakRssMiB: r.peakMiB, vmHwmMiB: r.peakMiB,
      note: `peak ${(r.peakMiB / fileMiB).toFixed(2)}× file size (Node included)`,
    });
    process.stderr.write(`  load (fresh process) [${name}]: ${r.seconds.toFixed(2)} s, peak RSS ${r.peakMiB.toFixed(0)} MiB\n`);
  }
  for (const { name, backend } of await availableBackends()) {
    setBackend(backend); // the model's tensors are created on this backend, so its ops run there
    const clip = await measure('load converted file', name, () => loadClip(converted));
    const r = rows[rows.length - 1];
    r.note = `peak - RSS before = ${((r.peakRssMiB - r.rssBeforeMiB) / (statSync(converted).size / MiB)).toFixed(2)}× file size`;
    if (loadOnly) continue;
    const size = name === 'cpu' && quick ? 64 : 224;
    const image = randn([1, 3, size, size]);
    const flops = vitFlops(CLIP_VIT_B_16.vision, size, size);
    const first = rows.length;
    await measure(`encodeImage ${size}x${size} (1st call)`, name, () => noGrad(() => clip.encodeImage(image).data()), flops);
    if (rows[first].seconds < 30) {
      await measure(`encodeImage ${size}x${size} (2nd call)`, name, () => noGrad(() => clip.encodeImage(image).data()), flops);
    }
  }
  const shapes = [...skipInit(() => new CLIP(CLIP_VIT_B_16)).stateDict().values()].map((t) => [...t.shape]);
  const torch = torchLoad(shapes, dir);
  if (torch !== null) {
    rows.push({
      stage: 'torch.load same-size state dict', backend: 'pytorch', seconds: torch.seconds, gflops: null,
      rssBeforeMiB: 0, peakRssMiB: torch.peakMiB, vmHwmMiB: null,
      note: `${torch.fileMiB.toFixed(0)} MiB file, fresh process, peak ${(torch.peakMiB / fileMiB).toFixed(2)}× (Python included)`,
    });
    process.stderr.write(`  torch.load [pytorch]: ${torch.seconds.toFixed(2)} s, peak RSS ${torch.peakMiB.toFixed(0)} MiB\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  await sampler.stop();
}

const header = ['stage', 'backend', 'seconds', 'GFLOP/s', 'RSS before MiB', 'peak RSS MiB', 'VmHWM MiB', 'note'];
const cells = rows.map((r) => [r.stage, r.backend, r.seconds.toFixed(2), r.gflops === null ? '' : r.gflops.toFixed(2),
  r.rssBeforeMiB.toFixed(0), r.peakRssMiB.toFixed(0), r.vmHwmMiB === null ? '' : r.vmHwmMiB.toFixed(0), r.note]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
console.log(`\n### clip (CLIP ViT-B/16, ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'})\n`);
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const c of cells) console.log(line(c));
writeResults(loadOnly ? 'clip-load' : 'clip', { machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? null }, imageFlops224: vitFlops(CLIP_VIT_B_16.vision, 224, 224), rows });
process.exit(0); // the wasm worker pool and the sampler are done; do not wait for timers
