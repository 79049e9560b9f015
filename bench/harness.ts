/**
 * The shared benchmark harness: benchmark.js runs each case, and we print one table per suite with
 * time per call, GFLOP/s where the work is known, and the ratio against a named baseline measured
 * in the same run (ratios are the only honest way to compare across machines). The results are also
 * written as JSON under bench/results/ (atomically).
 */
import Benchmark from 'benchmark';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchCase {
  /** Row label, e.g. "matmul 512". Cases with the same group are compared with each other. */
  group: string;
  /** Which implementation: "spt-seg cpu", "spt-seg wasm", "tfjs-wasm", ... */
  impl: string;
  fn: () => void;
  /** Floating-point operations per call, for GFLOP/s. */
  flops?: number;
}

export interface BenchResult {
  group: string;
  impl: string;
  msPerCall: number;
  rme: number;
  samples: number;
  gflops: number | null;
}

export interface SuiteOptions {
  /** The impl every other impl of a group is divided by (its time / their time). */
  baseline?: string;
  /** Seconds benchmark.js may spend per case (default 2). */
  maxTime?: number;
}

export function runSuite(name: string, cases: BenchCase[], opts: SuiteOptions = {}): BenchResult[] {
  const results: BenchResult[] = [];
  for (const c of cases) {
    c.fn(); // warm up: compile kernels, fill caches
    const bench = new Benchmark(`${c.group} / ${c.impl}`, c.fn, { maxTime: opts.maxTime ?? 2, minSamples: 3, initCount: 1 });
    bench.run({ async: false });
    if (bench.error) throw bench.error;
    const ms = bench.stats.mean * 1000;
    results.push({
      group: c.group, impl: c.impl, msPerCall: ms, rme: bench.stats.rme, samples: bench.stats.sample.length,
      gflops: c.flops ? c.flops / (ms / 1000) / 1e9 : null,
    });
    process.stderr.write(`  ${c.group} / ${c.impl}: ${ms.toFixed(3)} ms\n`);
  }
  printTable(name, results, opts.baseline);
  writeResults(name, results);
  return results;
}

export function printTable(name: string, results: BenchResult[], baseline?: string): void {
  const rows = results.map((r) => {
    const base = baseline ? results.find((b) => b.group === r.group && b.impl === baseline) : undefined;
    return [
      r.group, r.impl, r.msPerCall.toFixed(3), `±${r.rme.toFixed(1)}%`,
      r.gflops === null ? '' : r.gflops.toFixed(2),
      base ? `${(base.msPerCall / r.msPerCall).toFixed(2)}×` : '',
    ];
  });
  const header = ['case', 'impl', 'ms/call', 'rme', 'GFLOP/s', baseline ? `speed vs ${baseline}` : ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n### ${name}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

export function writeResults(name: string, results: unknown): void {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  const body = JSON.stringify({ suite: name, date: new Date().toISOString(), node: process.version, results }, null, 2);
  writeFileSync(`${path}.tmp`, `${body}\n`);
  renameSync(`${path}.tmp`, path);
}

/**
 * Median seconds per call: `warmup` calls, then calls until at least `minSamples` and `minSeconds`
 * (at most 50). For calls of 10 ms and up, where benchmark.js's cycles add nothing.
 */
export function medianSeconds(fn: () => void, minSamples = 5, minSeconds = 2, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minSamples || (performance.now() - start < minSeconds * 1000 && times.length < 50)) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** Run `bench/peers/<script>` with Debian's /usr/bin/python3 and parse the JSON line it prints. */
export function pythonPeer<T>(script: string, args: readonly (string | number)[]): T {
  const path = join(dirname(fileURLToPath(import.meta.url)), 'peers', script);
  return JSON.parse(execFileSync('/usr/bin/python3', [path, ...args.map(String)], { encoding: 'utf8' })) as T;
}

/** The median of some numbers (the upper one of the middle two for an even count). */
export function medianOf(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

/** Ours / the peer's time, round by round: the median ratio and its range (null if a round lacks the peer). */
export interface RatioOverRounds { ratio: number; min: number; max: number; range: string }
export function ratioOverRounds(ours: readonly number[], peer: readonly (number | null)[]): RatioOverRounds | null {
  if (peer.length !== ours.length || peer.some((p) => p === null)) return null;
  const ratios = ours.map((o, i) => o / (peer[i] as number));
  const min = Math.min(...ratios), max = Math.max(...ratios);
  return { ratio: medianOf(ratios), min, max, range: ratios.length > 1 ? `${min.toFixed(2)}-${max.toFixed(2)}×` : '' };
}
