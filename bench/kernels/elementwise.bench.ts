/**
 * The wasm backend's elementwise kernels against the reference: median microseconds per call and
 * the speed-up, at a few sizes (float32). Shows where copying into wasm memory stops paying
 * (`ELEMENTWISE_MIN` in kernels/wasm/index.ts).
 *
 *   npx tsx bench/kernels/elementwise.bench.ts
 *
 * Timing: a median-of-N loop (5 warm-up calls, then at least 15 samples and 0.3 s, at most 500).
 * Writes bench/results/elementwise.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { Backend } from '../../kernels/backend.ts';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { createWasmBackend } from '../../kernels/wasm/index.ts';

function medianUs(fn: () => void): number {
  for (let i = 0; i < 5; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 15 || (performance.now() - start < 300 && times.length < 500)) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) * 1000);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 4 - 2);

/** Each case: a name and what to run on a backend for `rows × cols` float32 values. */
const CASES: [string, (be: Backend, rows: number, cols: number) => () => void][] = [
  ['add, same shape', (be, r, c) => {
    const x = be.fromArray(random(r * c), 'float32'), y = be.fromArray(random(r * c), 'float32');
    return () => be.binary('add', x, [c, 1], y, [c, 1], [r, c]);
  }],
  ['mul, bias [cols]', (be, r, c) => {
    const x = be.fromArray(random(r * c), 'float32'), y = be.fromArray(random(c), 'float32');
    return () => be.binary('mul', x, [c, 1], y, [0, 1], [r, c]);
  }],
  ['sub, per row [rows, 1]', (be, r, c) => {
    const x = be.fromArray(random(r * c), 'float32'), y = be.fromArray(random(r), 'float32');
    return () => be.binary('sub', x, [c, 1], y, [1, 0], [r, c]);
  }],
  ['exp', (be, r, c) => {
    const x = be.fromArray(random(r * c), 'float32');
    return () => be.unary('exp', x);
  }],
  ['sum, last axis', (be, r, c) => {
    const x = be.fromArray(random(r * c), 'float32');
    return () => be.reduce('sum', x, r, c);
  }],
];
const SHAPES: [number, number][] = [[4, 64], [64, 64], [197, 768], [1024, 1024]];

const cpu = new CpuBackend();
const wasm = createWasmBackend();
if (wasm === null) throw new Error('the wasm backend is unavailable here');
console.log(`elementwise float32, median µs per call. ${cpus()[0]?.model ?? '?'}, Node ${process.version}, load ${loadavg()[0].toFixed(2)}`);
const results: Record<string, string | number>[] = [];
const header = ['op', 'shape', 'cpu ref µs', 'wasm µs', 'speed-up'];
const lines: string[][] = [];
for (const [name, make] of CASES) {
  for (const [r, c] of SHAPES) {
    const ref = medianUs(make(cpu, r, c)), fast = medianUs(make(wasm, r, c));
    results.push({ op: name, rows: r, cols: c, cpuUs: ref, wasmUs: fast });
    lines.push([name, `${r}×${c}`, ref.toFixed(1), fast.toFixed(1), `${(ref / fast).toFixed(2)}x`]);
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const print = (cells: string[]): void => console.log('| ' + cells.map((x, i) => (i < 2 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(' | ') + ' |');
print(header);
console.log('|' + widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
lines.forEach(print);

mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/elementwise.json', import.meta.url), JSON.stringify({
  date: new Date().toISOString(), cpu: cpus()[0]?.model, node: process.version, load: loadavg()[0],
  unit: 'microseconds (median)', results,
}, null, 2) + '\n');
console.log('\nwrote bench/results/elementwise.json');
