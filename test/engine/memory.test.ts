// Memory stays flat over a training loop: 50 steps of the demo model (train/demo/trainer.ts, whose step
// runs inside `tidy`) on gpu:cpu (gpu.js in Node, device memory that nothing but dispose frees) and
// on wasm (typed arrays, freed by the garbage collector once nothing holds them). After step 5 the
// live storage count and bytes must not grow. Also: `tidy` / `memory()` basics on both kinds.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { device, memory, randn, tidy, trackMemory, useDevice, type MemoryInfo } from '../../engine/index.ts';
import { SHAPES_DEFAULTS, shapesTrainer, type ShapesConfig } from '../../train/demo/trainer.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collect garbage until the finalizers that count CPU storages have run (the count holds still). */
async function settle(): Promise<void> {
  let last = -1, still = 0;
  for (let i = 0; i < 30 && still < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
    const now = memory().storages;
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

// The demo's model and step; a smaller batch so that 50 steps on gpu.js's CPU mode take seconds.
const CFG: ShapesConfig = { ...SHAPES_DEFAULTS, steps: 50, batchSize: 2, testScenes: 8 };
const CHECKED = new Set([5, 6, 7, 10, 20, 30, 40, 49, 50]);

for (const name of ['gpu:cpu', 'wasm']) {
  t.test(`50 demo training steps on ${name}: live storages and bytes are flat after step 5`, async (t) => {
    useDevice(name, { quiet: true });
    trackMemory();
    const trainer = shapesTrainer(CFG);
    const seen: (MemoryInfo & { step: number })[] = [];
    for (let step = 0; step < CFG.steps; step++) {
      trainer.step(step);
      // gpu.js's count is exact at every step; the collector's only after a collection, which costs
      // tens of milliseconds, so the CPU backend is read at some steps.
      if (name === 'wasm' && !CHECKED.has(step + 1)) continue;
      if (name === 'wasm') await settle();
      seen.push({ step: step + 1, ...memory() });
    }
    const at5 = seen.find((m) => m.step === 5)!, last = seen[seen.length - 1];
    t.equal(last.step, 50);
    t.ok(at5.storages > trainer.model.parameters().length, `counts something (${at5.storages} storages, ${at5.bytes} bytes at step 5)`);
    const grew = seen.filter((m) => m.step > 5 && (m.storages > at5.storages || m.bytes > at5.bytes));
    t.same(grew, [], `no step after the 5th holds more than step 5 (${last.storages} storages, ${last.bytes} bytes at step 50)`);
  });
}

t.test('tidy frees the temporaries of a gpu:cpu computation and keeps its result', async (t) => {
  const gpu = useDevice('gpu:cpu', { quiet: true });
  const x = randn([64]);
  const before = memory(gpu);
  const y = tidy(() => x.mul(2).exp().sum());
  t.same(memory(gpu), { storages: before.storages + 1, bytes: before.bytes + 4 }, 'only the result is left');
  t.same(memory(x), memory(gpu), 'memory(tensor) reads its backend');
  t.equal(memory(device('cpu')).storages >= 0, true);
  t.ok(Number.isFinite(y.item()));
});

t.test('one tidy frees on every backend: gpu:cpu temporaries made while the CPU is active, and CPU ones', async (t) => {
  const gpu = device('gpu:cpu');
  const x = randn([64], { device: 'gpu:cpu' });
  useDevice('wasm', { quiet: true }); // the active backend is a CPU one; the model lives on gpu.js
  const before = memory(gpu);
  let cpuTemp = randn([1]);
  const y = tidy(() => {
    cpuTemp = randn([4096]).mul(2); // made on the active (CPU) backend, not kept
    return x.mul(2).exp().sum(); // gpu.js temporaries: the product and the exp
  });
  t.same(memory(gpu), { storages: before.storages + 1, bytes: before.bytes + 4 }, 'only the gpu.js result is left');
  t.throws(() => cpuTemp.data(), /used after the tidy scope/, 'the CPU temporary was freed too');
  t.ok(Number.isFinite(y.item()));
});

t.test('gpu memory(): dispose counts once; the CPU count starts at trackMemory and follows the collector', async (t) => {
  const gpu = device('gpu:cpu');
  const s = gpu.fromArray(new Float32Array(100), 'float32');
  const with1 = memory(gpu);
  gpu.dispose(s);
  gpu.dispose(s);
  t.same(memory(gpu), { storages: with1.storages - 1, bytes: with1.bytes - 400 }, 'a second dispose changes nothing');

  const cpu = device('cpu');
  trackMemory(cpu);
  await settle();
  const base = memory(cpu).storages;
  let held: unknown = Array.from({ length: 10 }, () => randn([8], { device: cpu }));
  t.equal(memory(cpu).storages, base + 10, 'ten new storages are live');
  held = null;
  t.equal(held, null);
  useDevice('cpu', { quiet: true });
  await settle();
  t.equal(memory(cpu).storages, base, 'collected once unreachable');
});
