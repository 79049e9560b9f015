/**
 * Reading numbers back: `Tensor.toArray()` of 1M float32 values (issue 16: ≤ 10 ms), against the
 * `Array.from` it replaced and `data()` (the typed-array copy both start from), in the same run.
 * Only the reference cpu backend: every backend's `read` returns the same kind of typed array.
 * Run: `npm run bench -- toarray` (or `npx tsx bench/engine/toarray.bench.ts`); bench/results/toarray.json.
 */
import { randn, setBackend, type Tensor } from '../../engine/index.ts';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { runSuite, type BenchCase } from '../harness.ts';

setBackend(new CpuBackend());
const cases: BenchCase[] = [];
for (const n of [1 << 20]) {
  const x: Tensor = randn([n]);
  const group = `toArray ${n / (1 << 20)}M float32`;
  let sink = 0; // keeps the results observable, so nothing is optimised away
  cases.push({ group, impl: 'Array.from(data())', fn: () => { sink += Array.from(x.data()).length; } });
  cases.push({ group, impl: 'toArray()', fn: () => { sink += x.toArray().length; } });
  cases.push({ group, impl: 'data() only', fn: () => { sink += x.data().length; } });
  if (sink < 0) console.log(sink);
}
runSuite('toarray', cases, { baseline: 'Array.from(data())', maxTime: 1 });
