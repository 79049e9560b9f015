// The CPU backends' scoped array reuse (kernels/cpu/pool.ts), on cpu and wasm: what a tidy scope
// releases is reused by later ops of the same size, a tensor used after its scope freed it throws
// instead of reading someone else's numbers, kept and returned tensors survive intact, adopted
// arrays and tensors made outside every scope are never recycled, and training inside tidy gives
// bit-identical parameters to training without it.
import t from 'tap';
import { asTensor, dispose, manualSeed, randn, setBackend, tensor, tidy, type Tensor } from '../../engine/index.ts';
import { Linear } from '../../engine/nn/index.ts';
import { AdamW } from '../../engine/optim/index.ts';
import { clearPool, pooledBytes } from '../../kernels/cpu/pool.ts';

const N = 4096; // above the pool's smallest length

for (const name of ['cpu', 'wasm']) {
  t.test(`${name}: scoped reuse`, async (t) => {
    setBackend(name);
    clearPool();
    const x = randn([N]);
    t.test('what a scope releases is pooled, and reused by the next op of that size', async (t) => {
      clearPool();
      tidy(() => { x.mul(2).add(1); }); // two temporaries of N floats, neither kept
      t.equal(pooledBytes(), 2 * 4 * N, 'both temporaries are in the free list');
      const y = tidy(() => x.mul(3)); // kept: takes one of them
      t.equal(pooledBytes(), 4 * N, 'the kept result reused a released array');
      t.same(Array.from(y.data()), Array.from(x.data(), (v) => Math.fround(v * 3)), 'and holds its own numbers');
    });
    t.test('a tensor used after its scope ended throws, with a clear message', async (t) => {
      let escaped: Tensor | null = null;
      tidy(() => { escaped = x.exp(); });
      t.throws(() => escaped!.data(), /used after the tidy scope that made it ended/);
      t.throws(() => escaped!.add(1), /used after the tidy scope/);
    });
    t.test('returned and kept tensors survive later scopes that reuse memory', async (t) => {
      const keepMe = randn([N]);
      const before = Array.from(keepMe.data());
      const kept = tidy(() => { keepMe.assign(keepMe.mul(2)); return x.mul(5); }, [keepMe]);
      const want = Array.from(kept.data());
      for (let i = 0; i < 3; i++) tidy(() => { x.mul(7).sub(1).exp(); }); // churn the pool
      t.same(Array.from(kept.data()), want, 'the returned tensor is untouched');
      t.same(Array.from(keepMe.data()), before.map((v) => Math.fround(v * 2)), 'the kept tensor holds its new value');
    });
    t.test('nested scopes hand what they keep to the enclosing scope, which frees it', async (t) => {
      let inner: Tensor | null = null;
      const outer = tidy(() => {
        inner = tidy(() => x.mul(2));
        t.equal(inner.data()[0], Math.fround(x.data()[0] * 2), 'alive inside the outer scope');
        return inner.sum();
      });
      t.throws(() => inner!.data(), /used after the tidy scope/, 'freed when the outer scope ends');
      t.ok(Number.isFinite(outer.item()), 'the outer result survives');
    });
    t.test('adopted arrays and unscoped tensors are never recycled', async (t) => {
      clearPool();
      const own = Float32Array.from({ length: N }, (_, i) => i);
      tidy(() => { asTensor(own).mul(1); return null; });
      t.equal(pooledBytes(), 4 * N, 'only the product was pooled, not the adopted array');
      for (let i = 0; i < 3; i++) tidy(() => { x.mul(9); });
      t.ok(own.every((v, i) => v === i), 'the caller\'s array still holds its numbers');
      const outside = tensor(Array.from({ length: N }, (_, i) => i));
      dispose(outside); // not made in a scope: the garbage collector's, dispose does nothing
      t.equal(outside.data()[N - 1], N - 1, 'an unscoped tensor stays usable after dispose');
    });
    t.test('training in tidy gives the same parameters, bit for bit, as training without it', async (t) => {
      const run = (scoped: boolean): number[] => {
        manualSeed(3);
        const layer = new Linear(64, 64);
        const opt = new AdamW(layer.parameters(), { lr: 1e-2 });
        const input = randn([128, 64]), target = randn([128, 64]);
        const step = (): void => {
          opt.zeroGrad();
          layer.forward(input).sub(target).square().mean().backward();
          opt.step();
        };
        for (let i = 0; i < 5; i++) {
          if (scoped) tidy(step, () => [...layer.parameters(), ...opt.stateTensors()]);
          else step();
        }
        return layer.parameters().flatMap((p) => Array.from(p.data()));
      };
      const plain = run(false), scoped = run(true);
      t.ok(plain.every((v, i) => Object.is(v, scoped[i])), `${plain.length} parameters equal`);
    });
  });
}
