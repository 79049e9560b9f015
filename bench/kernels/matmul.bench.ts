/**
 * float32 matmul, n × n × n, through each engine's public API: median GFLOP/s (2n³ flops per call).
 *
 *   npx tsx bench/kernels/matmul.bench.ts            all sizes and peers (about a minute)
 *   SIZES=256,1024 npx tsx bench/kernels/matmul.bench.ts
 *   TILES=4x8,6x8,2x16 npx tsx bench/kernels/matmul.bench.ts   also time other microkernel tiles
 *   SPT_BENCH_ROUNDS=1 ...                            one pass instead of three (the table shows medians)
 *
 * Engines: our reference CPU backend (small sizes only), our wasm backend on all cores and on one,
 * tfjs-core + tfjs-backend-wasm (XNNPACK), onnxruntime-node (a one-node MatMul model encoded below)
 * and PyTorch (/usr/bin/python3, torch.set_num_threads(2)). Each call includes what a user pays:
 * our backend packs and copies out, tfjs reads back with dataSync, ORT copies in and out.
 *
 * Timing: a plain median-of-N loop, not benchmark.js (whose mean-based statistics and async
 * deferreds suit microsecond functions, not 100 ms calls that must finish with a readback):
 * 2 warm-up calls, then calls until at least 7 samples and 1.5 s (at most 50), median time.
 * Also printed: 1 thread vs all threads on small sizes (0.4 s each, up to 2000 samples), which sets
 * `PARALLEL_MIN_MACS`.
 * Writes bench/results/matmul.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { Backend, MatmulArgs } from '../../kernels/backend.ts';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { WasmBackend, createWasmBackend } from '../../kernels/wasm/index.ts';
import { compileKernels, defaultShape, instantiate } from '../../kernels/wasm/module.ts';
import { medianOf } from '../harness.ts';
import { importPeer } from '../peers/optional.ts';

const SIZES = (process.env.SIZES ?? '128,256,512,1024,2048').split(',').map(Number);
const REFERENCE_MAX = 512;
const THREADS = availableParallelism();

/** Median seconds per call of `fn`. */
function median(fn: () => void, minSamples = 7, minSeconds = 1.5): number {
  fn();
  fn();
  const times: number[] = [];
  const start = performance.now();
  const most = minSeconds < 1 ? 2000 : 50; // tiny calls: many samples
  while (times.length < minSamples || (performance.now() - start < minSeconds * 1000 && times.length < most)) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

const gflops = (n: number, seconds: number): number => (2 * n ** 3) / seconds / 1e9;

function randomMatrix(n: number): Float32Array {
  const x = new Float32Array(n * n);
  for (let i = 0; i < x.length; i++) x[i] = Math.random() * 2 - 1;
  return x;
}

function timeBackend(backend: Backend, n: number, a: Float32Array, b: Float32Array, seconds = 1.5): number {
  const args: MatmulArgs = { batch: 1, m: n, k: n, n, aBatchStride: 0, bBatchStride: 0, transA: false, transB: false };
  const sa = backend.fromArray(a, 'float32'), sb = backend.fromArray(b, 'float32');
  const few = backend.name === 'cpu';
  return median(() => backend.matmul(sa, sb, args), few ? 3 : 7, few ? 0.5 : seconds);
}

/** A peer library: a label for the table and the median seconds of one n × n × n product. */
interface Peer {
  label: string;
  seconds(n: number, a: Float32Array, b: Float32Array): Promise<number>;
}

// -- tfjs-backend-wasm -----------------------------------------------------------------------------

async function tfjsPeer(): Promise<Peer | null> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const tfw = await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    return {
      label: `tfjs-wasm (${tfw.getThreadsCount()} thr)`,
      async seconds(n, a, b) {
        const ta = tf.tensor2d(a, [n, n]), tb = tf.tensor2d(b, [n, n]);
        const s = median(() => {
          const c = tf.matMul(ta, tb);
          c.dataSync();
          c.dispose();
        });
        ta.dispose();
        tb.dispose();
        return s;
      },
    };
  } catch (e) {
    console.warn('tfjs-backend-wasm skipped:', (e as Error).message);
    return null;
  }
}

// -- onnxruntime-node, with a one-node model written by hand ----------------------------------------

/**
 * The smallest ONNX model computing C = MatMul(A, B) for any [M, K] × [K, N] float tensors, in
 * protobuf wire format: each field is a key (field number << 3 | wire type) then a varint
 * (type 0) or a length-prefixed byte string (type 2). Field numbers from onnx/onnx.proto.
 */
function matmulOnnx(): Uint8Array {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
    out.push(n);
    return out;
  };
  const int = (field: number, n: number): number[] => [(field << 3) | 0, ...varint(n)];
  const bytes = (field: number, body: number[]): number[] => [(field << 3) | 2, ...varint(body.length), ...body];
  const str = (field: number, s: string): number[] => bytes(field, [...new TextEncoder().encode(s)]);
  // ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1 (FLOAT),
  //   shape = 2: { dim = 1: { dim_param = 2 } } } } }
  const value = (name: string, dims: string[]): number[] => [
    ...str(1, name),
    ...bytes(2, bytes(1, [...int(1, 1), ...bytes(2, dims.flatMap((d) => bytes(1, str(2, d))))])),
  ];
  const node = [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'C'), ...str(3, 'matmul'), ...str(4, 'MatMul')];
  const graph = [
    ...bytes(1, node), ...str(2, 'g'),
    ...bytes(11, value('A', ['M', 'K'])), ...bytes(11, value('B', ['K', 'N'])),
    ...bytes(12, value('C', ['M', 'N'])),
  ];
  // ModelProto { ir_version = 1: 8, graph = 7, opset_import = 8: { domain = 1: "", version = 2: 13 } }
  return new Uint8Array([...int(1, 8), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 13)])]);
}

/** The slice of onnxruntime-node's API used here (the package is an optional peer, maybe absent). */
interface Ort {
  InferenceSession: { create(model: Uint8Array, opts: { intraOpNumThreads: number; interOpNumThreads: number }): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}
interface OrtSession { run(feeds: Record<string, unknown>): Promise<unknown> }

async function ortPeer(): Promise<Peer | null> {
  const ort = await importPeer<Ort>('onnxruntime-node');
  if (ort === null) return null;
  try {
    const session = await ort.InferenceSession.create(matmulOnnx(), { intraOpNumThreads: THREADS, interOpNumThreads: 1 });
    return {
      label: `onnxruntime (${THREADS} thr)`,
      // run() is async, so this is `median` with awaits: 2 warm-ups, >= 7 runs and 1.5 s, at most 50.
      async seconds(n, a, b) {
        const feeds = { A: new ort.Tensor('float32', a, [n, n]), B: new ort.Tensor('float32', b, [n, n]) };
        await session.run(feeds);
        await session.run(feeds);
        const times: number[] = [];
        const start = performance.now();
        while (times.length < 7 || (performance.now() - start < 1500 && times.length < 50)) {
          const t0 = performance.now();
          await session.run(feeds);
          times.push((performance.now() - t0) / 1000);
        }
        times.sort((x, y) => x - y);
        return times[times.length >> 1];
      },
    };
  } catch (e) {
    console.warn('onnxruntime-node skipped:', (e as Error).message);
    return null;
  }
}

// -- PyTorch, in a subprocess --------------------------------------------------------------------------

function torchResults(sizes: number[]): Map<number, number> {
  const script = `
import json, sys, time, torch
torch.set_num_threads(${THREADS})
out = {}
for n in ${JSON.stringify(sizes)}:
    a = torch.rand(n, n) * 2 - 1
    b = torch.rand(n, n) * 2 - 1
    torch.matmul(a, b); torch.matmul(a, b)
    times = []
    start = time.perf_counter()
    while len(times) < 7 or (time.perf_counter() - start < 1.5 and len(times) < 50):
        t0 = time.perf_counter(); torch.matmul(a, b); times.append(time.perf_counter() - t0)
    times.sort()
    out[n] = times[len(times) // 2]
print(json.dumps({"version": torch.__version__, "seconds": out}))
`;
  try {
    const res = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' })) as
      { version: string; seconds: Record<string, number> };
    return new Map(Object.entries(res.seconds).map(([n, s]) => [Number(n), s]));
  } catch (e) {
    console.warn('PyTorch skipped:', (e as Error).message.split('\n')[0]);
    return new Map();
  }
}

// -- main ------------------------------------------------------------------------------------------

const wasm = createWasmBackend();
if (wasm === null) throw new Error('the wasm backend is unavailable here');
const wasm1 = createWasmBackend({ threads: 1 })!;
const cpu = new CpuBackend();
const tfjs = await tfjsPeer();
const ort = await ortPeer();

const load = loadavg()[0];
console.log(`matmul float32 n×n×n, median GFLOP/s. ${cpus()[0]?.model ?? '?'}, ${THREADS} threads, Node ${process.version}` +
  `, tile ${defaultShape().mr}x${4 * defaultShape().nv}${defaultShape().fma ? ' FMA' : ' mul+add'}, load average ${load.toFixed(2)}`);
// Other processes on the machine take cores from the multi-threaded engines: say so. (The load
// average also counts this benchmark's own last minute, so a re-run right after one reads ~1.)
if (load > 1.5) console.warn(`warning: load average ${load.toFixed(2)}: if other processes are running, numbers will be low and noisy`);

const columns = ['cpu ref', `wasm (${wasm.threads} thr)`, 'wasm (1 thr)', tfjs?.label ?? 'tfjs-wasm', ort?.label ?? 'onnxruntime', `torch (${THREADS} thr)`];

/** One pass over every size and engine: a row of GFLOP/s per n. */
async function measureRound(): Promise<Record<string, number | null>[]> {
  const round: Record<string, number | null>[] = [];
  for (const n of SIZES) {
    const a = randomMatrix(n), b = randomMatrix(n);
    const row: Record<string, number | null> = { n };
    row[columns[0]] = n <= REFERENCE_MAX ? gflops(n, timeBackend(cpu, n, a, b)) : null;
    row[columns[1]] = gflops(n, timeBackend(wasm!, n, a, b));
    row[columns[2]] = gflops(n, timeBackend(wasm1, n, a, b));
    row[columns[3]] = tfjs ? gflops(n, await tfjs.seconds(n, a, b)) : null;
    row[columns[4]] = ort ? gflops(n, await ort.seconds(n, a, b)) : null;
    round.push(row);
    process.stderr.write(`  n=${n} done\n`);
  }
  const torchSeconds = torchResults(SIZES);
  for (const row of round) row[columns[5]] = torchSeconds.has(row.n!) ? gflops(row.n!, torchSeconds.get(row.n!)!) : null;
  return round;
}

// On a shared machine one pass can be off by tens of percent: SPT_BENCH_ROUNDS (default 3) repeats the
// whole pass; the table shows each cell's median and the ratios' range over the rounds follows it.
const ROUNDS = Math.max(1, Number(process.env.SPT_BENCH_ROUNDS ?? 3));
const passes: Record<string, number | null>[][] = [];
for (let r = 0; r < ROUNDS; r++) passes.push(await measureRound());
const cellMedian = (i: number, c: string): number | null => {
  const v = passes.map((p) => p[i][c]).filter((x): x is number => x != null);
  return v.length === 0 ? null : medianOf(v);
};
const rows: Record<string, number | null>[] = SIZES.map((n, i) =>
  Object.fromEntries([['n', n], ...columns.map((c) => [c, cellMedian(i, c)])]));

const fmt = (x: number | null | undefined, digits = 1): string => (x == null || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const ours = columns[1];
const peers = [columns[0], columns[3], columns[4], columns[5]];
const header = ['n', ...columns, ...peers.map((p) => `wasm/${p.split(' ')[0]}`)];
const lines = rows.map((r) => [String(r.n), ...columns.map((c) => fmt(r[c])),
  ...peers.map((p) => (r[p] ? fmt(r[ours]! / r[p]!, 2) + 'x' : '-'))]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const print = (cells: string[]): void => console.log('| ' + cells.map((c, i) => c.padStart(widths[i])).join(' | ') + ' |');
print(header);
console.log('|' + widths.map((w) => '-'.repeat(w + 1) + ':').join('|') + '|');
lines.forEach(print);
if (ROUNDS > 1) {
  console.log(`\nours / peer over the ${ROUNDS} rounds (min-max of each round's ratio):`);
  SIZES.forEach((n, i) => {
    const range = (p: string): string => {
      const r = passes.map((pass) => (pass[i][ours] && pass[i][p] ? pass[i][ours]! / pass[i][p]! : null)).filter((x): x is number => x !== null);
      return r.length === 0 ? '-' : `${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)}×`;
    };
    console.log(`  n=${n}: ${[columns[3], columns[4], columns[5]].map((p) => `${p.split(' ')[0]} ${range(p)}`).join(', ')}`);
  });
}

// Where do two threads start to pay? (sets PARALLEL_MIN_MACS in kernels/wasm/matmul.ts)
const forced = createWasmBackend({ threads: THREADS, parallelMinMacs: 0 })!;
const small: Record<string, number>[] = [];
console.log(`\nsmall sizes, median µs per call: 1 thread vs ${THREADS} (pool forced on)`);
for (const n of [64, 96, 112, 128, 160, 192, 256]) {
  const a = randomMatrix(n), b = randomMatrix(n);
  const one = timeBackend(wasm1, n, a, b, 0.4), pool = timeBackend(forced, n, a, b, 0.4);
  small.push({ n, oneThreadUs: one * 1e6, poolUs: pool * 1e6 });
  console.log(`  n=${n}: ${fmt(one * 1e6)} µs vs ${fmt(pool * 1e6)} µs`);
}

// Other microkernel tiles, single-threaded (TILES=4x8,6x8,...).
const tiles: Record<string, number>[] = [];
if (process.env.TILES) {
  console.log('\nmicrokernel tiles, 1 thread, GFLOP/s at each size');
  for (const tile of process.env.TILES.split(',')) {
    const [mr, nr] = tile.split('x').map(Number);
    const shape = { mr, nv: nr / 4, fma: defaultShape().fma };
    const backend = new WasmBackend(instantiate(compileKernels(shape), shape), { threads: 1 });
    const result: Record<string, number> = { mr, nr };
    for (const n of SIZES) {
      const a = randomMatrix(n), b = randomMatrix(n);
      result[n] = gflops(n, timeBackend(backend, n, a, b));
    }
    tiles.push(result);
    console.log(`  ${tile}: ${SIZES.map((n) => `${n}: ${fmt(result[n])}`).join(', ')}`);
  }
}

mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../results/matmul.json', import.meta.url), JSON.stringify({
  date: new Date().toISOString(), cpu: cpus()[0]?.model, threads: THREADS, node: process.version, loadBefore: load, loadAfter: loadavg()[0],
  tile: defaultShape(), unit: `GFLOP/s (median${ROUNDS > 1 ? ` of ${ROUNDS} rounds` : ""})`, rounds: ROUNDS, columns, rows, small, tiles,
}, null, 2) + '\n');
console.log('\nwrote bench/results/matmul.json');
