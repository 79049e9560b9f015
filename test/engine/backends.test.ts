/**
 * Backend parity, end to end: the first 10 optimizer steps of the `mlp` and `block` PyTorch runs
 * (test/fixtures/train/, replayed by test/helpers/train-replay.ts) on every backend that runs in
 * Node. Every step's loss must be within 1e-4 (relative) of PyTorch's and of the reference CPU
 * backend's. The shader paths (gpu.js webgl2, webgl, webgpu) run the same replay in headless
 * Chromium: test/browser/training.test.ts.
 *
 *   cpu                   the reference kernels (the oracle)
 *   wasm                  WebAssembly SIMD kernels + the matmul worker pool
 *   gpu:cpu               gpu.js kernels transpiled to JavaScript
 *   gpu:webasm            gpu.js kernels compiled to WebAssembly
 *   gpu:webasm, async     the same with `asyncKernels`: every kernel returns a Promise and work waits
 *                         in the runner's queue, as on WebGPU, so only `dataAsync` can read the loss
 *
 * On the gpu.js backends each step runs inside `tidy` (engine/memory.ts), and the number of live
 * device buffers must stay flat from step to step, and disposing the run at the end must bring it
 * back to where it started; a control run without `tidy` shows that it would grow. The rest of the
 * file checks `tidy` / `dispose` on their own.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  cat, crossEntropy, dispose, setBackend, tensor, tidy, type Backend, type Tensor,
} from '../../engine/index.ts';
import { AdamW } from '../../engine/optim/index.ts';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { createGpuBackend, GpuBackend } from '../../kernels/gpu/index.ts';
import { createWasmBackend } from '../../kernels/wasm/index.ts';
import { loadRun, makeModel, replay, type TrainRun } from '../helpers/train-replay.ts';

const STEPS = 10;
const RTOL = 1e-4;
const RUNS = ['mlp', 'block'] as const;

const BACKENDS: { name: string; make: () => Backend }[] = [
  { name: 'cpu', make: () => new CpuBackend() },
  { name: 'wasm', make: () => createWasmBackend() ?? fail('the wasm backend must be available on Node 20') },
  { name: 'gpu:cpu', make: () => createGpuBackend('cpu', { log: false }) },
  { name: 'gpu:webasm', make: () => createGpuBackend('webasm', { log: false }) },
  { name: 'gpu:webasm, async', make: () => createGpuBackend('webasm', { log: false, asyncKernels: true }) },
];

function fail(msg: string): never {
  throw new Error(msg);
}

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../fixtures/train/${name}.safetensors`, import.meta.url)));
}

/** Load a run onto `backend` (tensors are created on the active backend). */
function runOn(backend: Backend, name: string): TrainRun {
  setBackend(backend);
  return loadRun(name, fixture(name));
}

/** Device buffers held by live GPU storages, once queued work (and queued disposals) has run. */
async function liveDevice(b: GpuBackend): Promise<number> {
  await b.flush();
  return b.runner.stats.liveDevice;
}

t.teardown(() => { setBackend(new CpuBackend()); });

// -- 1. the same 10 steps on every Node backend ---------------------------------------------------

/** The reference CPU losses, per run: every other backend is also compared with these. */
const reference = new Map<string, number[]>();

for (const { name, make } of BACKENDS) {
  t.test(`${name}: ${STEPS} training steps match PyTorch and the reference within ${RTOL}`, async (t) => {
    const backend = make();
    const gpu = backend instanceof GpuBackend ? backend : null;
    if (gpu) t.match(await gpu.description, new RegExp(`gpu\\.js mode ${gpu.mode} `), `gpu.js runs mode ${gpu.mode}`);
    for (const run of RUNS) {
      const live: number[] = [];
      const before = gpu ? await liveDevice(gpu) : 0;
      const t0 = performance.now();
      const r = await replay(runOn(backend, run), {
        steps: STEPS,
        afterStep: async () => { if (gpu) live.push(await liveDevice(gpu)); },
      });
      t.equal(r.losses.length, STEPS);
      for (const [step, rel] of r.relErrors.entries()) {
        if (rel > RTOL) t.fail(`${run} step ${step}: loss ${r.losses[step]} vs PyTorch ${r.expected[step]} (relative error ${rel.toExponential(2)})`);
      }
      t.ok(r.worst <= RTOL, `${run}: worst relative error vs PyTorch ${r.worst.toExponential(2)} (${Math.round(performance.now() - t0)} ms)`);
      if (name === 'cpu') {
        reference.set(run, r.losses);
      } else {
        const ref = reference.get(run) ?? fail('the cpu backend runs first');
        const vsRef = Math.max(...r.losses.map((l, i) => Math.abs(l - ref[i]) / Math.abs(ref[i])));
        t.ok(vsRef <= RTOL, `${run}: worst relative difference from the reference backend ${vsRef.toExponential(2)}`);
      }
      if (gpu) {
        t.same(live.slice(1), Array(STEPS - 1).fill(live[1]), `${run}: live device buffers flat from step to step (${live.join(', ')})`);
        t.equal(await liveDevice(gpu), before, `${run}: disposing the run frees the rest (back to ${before})`);
      }
    }
    if (gpu) {
      t.same(gpu.runner.fallbacks, [], 'no kernel fell back to another gpu.js mode');
      await gpu.destroy();
    }
  });
}

// -- 2. tidy and dispose --------------------------------------------------------------------------

t.test('without tidy, a GPU training loop leaks device buffers every step (the control)', async (t) => {
  const gpu = createGpuBackend('cpu', { log: false });
  const run = runOn(gpu, 'mlp');
  const model = makeModel('mlp');
  model.loadStateDict(run.params);
  const opt = new AdamW(model.parameters(), { lr: run.lr });
  const live: number[] = [];
  for (let step = 0; step < 3; step++) {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(run.x), run.y);
    loss.backward();
    opt.step();
    await loss.dataAsync();
    live.push(await liveDevice(gpu));
  }
  t.ok(live[2] - live[1] > 20, `live device buffers grow by ${live[2] - live[1]} per step (${live.join(', ')})`);
  await gpu.destroy();
});

t.test('tidy keeps what fn returns and what keep names (with grads), and frees the rest', async (t) => {
  const gpu = createGpuBackend('cpu', { log: false });
  setBackend(gpu);
  const base = await liveDevice(gpu);
  const x = tensor(Array.from({ length: 64 }, (_, i) => i / 64), [8, 8]);
  const w = tensor(Array.from({ length: 64 }, (_, i) => 1 - i / 64), [8, 8]).requiresGrad_();
  t.equal(await liveDevice(gpu), base + 2);
  const { y, pair } = tidy(() => {
    const h = x.matmul(w).exp(); // two intermediates
    h.sum().backward(); // w.grad, and the backward pass's intermediates
    const inner = tidy(() => [h.mul(2), h.neg()]); // nested scope: both survive into this one
    return { y: h.sum(1), pair: inner };
  }, [w]);
  t.equal(await liveDevice(gpu), base + 2 + 1 + 2 + 1, 'x, w, w.grad, y and the pair survive');
  t.ok(w.grad !== null && (await w.grad.dataAsync()).length === 64, 'w.grad is readable');
  t.equal((await y.dataAsync()).length, 8);
  dispose([y, ...pair]);
  t.equal(await liveDevice(gpu), base + 3, 'dispose frees arrays of tensors');
  t.throws(() => y.add(1), /after dispose/, 'a disposed tensor cannot be used');
  t.equal(tidy(() => 42), 42, 'a result without tensors passes through');
  t.throws(() => tidy(() => Promise.resolve(x)), /synchronous/, 'fn must be synchronous');
  await gpu.destroy();
});

t.test('tidy frees the storages that keep tensors let go of (assign, replaced optimizer state)', async (t) => {
  const gpu = createGpuBackend('cpu', { log: false });
  setBackend(gpu);
  const p = tensor(Array.from({ length: 32 }, (_, i) => Math.sin(i)), [32]).requiresGrad_();
  const opt = new AdamW([p], { lr: 0.1 });
  const step = (): Tensor => tidy(() => {
    opt.zeroGrad();
    const loss = p.mul(p).sum();
    loss.backward();
    opt.step();
    return loss.detach();
  }, () => [p, ...opt.stateTensors()]);
  const live: number[] = [];
  const held: unknown[] = [];
  for (let i = 0; i < 4; i++) {
    held.push(p.storage);
    dispose(step());
    live.push(await liveDevice(gpu));
  }
  t.same(live, Array(4).fill(4), `p, p.grad and the two moments, every step (${live.join(', ')})`);
  t.not(p.storage, held[3], 'assign gave p a new storage');
  t.ok(held.every((s) => (s as { disposed: boolean }).disposed), "each step's old parameter storage was freed");
  t.equal(opt.stateTensors().length, 2, 'AdamW reports its two moments');
  t.ok(opt.stateTensors().every((s) => !(s.storage as unknown as { disposed: boolean }).disposed), 'the current moments survive');
  await gpu.destroy();
});

t.test('async queue (as on WebGPU): host storages read synchronously once their numbers are final', async (t) => {
  const gpu = createGpuBackend('webasm', { log: false, asyncKernels: true });
  setBackend(gpu);
  const x = tensor(Array.from({ length: 64 }, (_, i) => i / 64)).exp(); // queued: the runner is busy
  t.ok(gpu.runner.busy, 'kernels are pending');
  t.throws(() => x.data(), /asynchronous readback/, 'a device tensor needs dataAsync');
  const labels = tensor([3, 1, 2], [3], { dtype: 'int32' });
  t.same(Array.from(labels.data()), [3, 1, 2], 'an int32 tensor made from host numbers reads synchronously (crossEntropy checks targets so)');
  const joined = cat([labels, tensor([7], [1], { dtype: 'int32' })]); // a copy into a host storage, queued
  t.throws(() => joined.data(), /asynchronous readback/, 'a host tensor whose numbers are still queued does not (it would read zeros)');
  t.same(Array.from(await joined.dataAsync()), [3, 1, 2, 7]);
  t.same(Array.from(joined.data()), [3, 1, 2, 7], 'and does once they are written');
  t.equal((await x.dataAsync()).length, 64);
  await gpu.destroy();
});

t.test('tidy and dispose on a CPU backend: scoped storages are freed, others are the garbage collector\'s', async (t) => {
  setBackend(new CpuBackend());
  const x = tensor([1, 2, 3]);
  const y = tidy(() => x.mul(2).add(1));
  t.same(y.toArray(), [3, 5, 7]);
  dispose(y);
  t.throws(() => y.toArray(), /used after the tidy scope that made it ended \(or after dispose\(\)\)/, 'made inside a scope: dispose frees it, as on gpu.js');
  dispose(x);
  t.same(x.toArray(), [1, 2, 3], 'made outside every scope: garbage-collected, dispose leaves it readable');
  t.throws(() => tidy(() => Promise.resolve(x)), /synchronous/, 'fn must be synchronous here too');
});
