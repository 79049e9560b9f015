/**
 * The GEMM microkernel with relaxed-SIMD fused multiply-add against the same kernel with separate
 * mul + add, in ONE process, single-threaded, the two interleaved call by call so that the load of
 * a shared machine falls on both alike. Needs an engine where `WebAssembly.validate` accepts
 * relaxed SIMD: Node 22+, or Node 20 with V8's flag:
 *   node --experimental-wasm-relaxed-simd --import tsx bench/kernels/fma.bench.ts
 * Elsewhere it says so and exits (the backend falls back to mul + add there on its own).
 * Results in bench/results/fma.json.
 */
import { cpus, loadavg } from 'node:os';
import { randn, setBackend } from '../../engine/index.ts';
import { WasmBackend } from '../../kernels/wasm/index.ts';
import { compileKernels, hasRelaxedSimd, instantiate } from '../../kernels/wasm/module.ts';
import { writeResults } from '../harness.ts';

if (!hasRelaxedSimd()) {
  console.log('relaxed SIMD is not available in this engine (Node 20: --experimental-wasm-relaxed-simd); nothing to compare');
  process.exit(0);
}
const make = (mr: number, nr: number, fma: boolean) => {
  const shape = { mr, nv: nr / 4, fma };
  return new WasmBackend(instantiate(compileKernels(shape), shape), { threads: 1 });
};
// The default 4x8 tile both ways; TILES=6x8,4x12 adds FMA kernels of other tiles (FMA needs no
// product temporary, so a tile one register larger may fit where mul + add would spill).
const impls: Record<string, WasmBackend> = { fma: make(4, 8, true), 'mul+add': make(4, 8, false) };
for (const tile of (process.env.TILES ?? '').split(',').filter(Boolean)) {
  const [mr, nr] = tile.split('x').map(Number);
  impls[`fma ${tile}`] = make(mr, nr, true);
}
const rows: { n: number; fmaMs: number; mulAddMs: number; speedup: number; tiles: Record<string, number> }[] = [];
const load = loadavg()[0];
for (const n of [256, 512, 1024]) {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
  setBackend(impls.fma);
  const a = randn([n, n]), b = randn([n, n]); // cpu storages: both backends read them
  const reps = n >= 1024 ? 5 : 15;
  for (let r = 0; r <= reps; r++) {
    for (const [name, backend] of Object.entries(impls)) {
      setBackend(backend);
      const t0 = performance.now();
      a.matmul(b).data();
      if (r > 0) times[name].push(performance.now() - t0); // r = 0 warms up
    }
  }
  const median = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1];
  const fmaMs = median(times.fma), mulAddMs = median(times['mul+add']);
  const tiles = Object.fromEntries(Object.keys(impls).filter((k) => k.startsWith('fma ')).map((k) => [k, mulAddMs / median(times[k])]));
  rows.push({ n, fmaMs, mulAddMs, speedup: mulAddMs / fmaMs, tiles });
  const gf = (ms: number) => (2 * n ** 3 / ms / 1e6).toFixed(1);
  console.log(`matmul ${n}³, 1 thread: fma ${fmaMs.toFixed(1)} ms (${gf(fmaMs)} GFLOP/s), mul+add ${mulAddMs.toFixed(1)} ms (${gf(mulAddMs)}), fma speed-up ${(mulAddMs / fmaMs).toFixed(2)}×` +
    Object.entries(tiles).map(([k, v]) => `, ${k} ${v.toFixed(2)}×`).join(''));
}
console.log(`(${cpus()[0]?.model ?? 'unknown CPU'}, load average ${load.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after)`);
writeResults('fma', { cpu: cpus()[0]?.model ?? null, loadBefore: load, loadAfter: loadavg()[0], rows });
process.exit(0);
