/**
 * The fuzz loop every parser suite shares: generate N inputs from a seed, run the parser on each, and
 * check what the issue asks of every failure.
 *
 * A case passes when the parser returns (the mutation happened to stay valid; `check` may then test
 * invariants of the result) or throws an Error of one of the parser's own classes whose message names
 * the file (`source`). It fails on any other throw (TypeError, RangeError, a string...), a message
 * without the file name, or a case slower than `maxCaseMs` (1 s). Failures are collected and
 * reported together with the case index, so `(seed, index)` reproduces each one.
 *
 * Case count: `FUZZ_CASES` in the environment (set by `npm run fuzz -- --cases N`), else the suite's
 * CI default; `FUZZ_SEED` shifts the seed for long runs.
 */
import type { Test } from 'tap';
import { Rng } from './mutate.ts';

export type ErrorClass = abstract new (...args: never[]) => Error;

export interface FuzzTarget<T> {
  /** Shown in the report and used in the file name given to the parser. */
  name: string;
  /** The input of case `i` (use only `rng`, so that cases are reproducible). */
  generate(rng: Rng, i: number): T;
  /** Run the parser; `source` is the file name its errors must contain. */
  parse(input: T, source: string): unknown;
  /** The parser's own error classes. */
  errors: readonly ErrorClass[];
  /** Optional invariants of a successful parse; return a problem description or undefined. */
  check?(result: unknown, input: T): string | undefined;
}

export interface FuzzStats {
  cases: number;
  accepted: number;
  /** Rejections by error class (and `code`, where the class has one). */
  rejected: Map<string, number>;
  maxMs: number;
  totalMs: number;
}

const MAX_CASE_MS = 1000;

/** Number of cases: FUZZ_CASES if set, else `ciDefault`. */
export function caseCount(ciDefault: number): number {
  const n = Number(process.env.FUZZ_CASES);
  return Number.isInteger(n) && n > 0 ? n : ciDefault;
}

/** Run `cases` inputs of `target` from `seed` and assert the contract above in one go. */
export function fuzz<T>(t: Test, target: FuzzTarget<T>, seed: number, cases: number): FuzzStats {
  const rng = new Rng(seed + (Number(process.env.FUZZ_SEED) || 0) * 0x9e3779b1);
  const stats: FuzzStats = { cases, accepted: 0, rejected: new Map(), maxMs: 0, totalMs: 0 };
  const failures: string[] = [];
  let failed = 0;
  const fail = (i: number, what: string) => {
    failed++;
    if (failures.length < 10) failures.push(`case ${i}: ${what}`);
  };
  for (let i = 0; i < cases; i++) {
    const input = target.generate(rng, i);
    const source = `fuzz-${target.name}-${i}.bin`;
    const start = performance.now();
    try {
      const result = target.parse(input, source);
      stats.accepted++;
      const problem = target.check?.(result, input);
      if (problem) fail(i, `accepted, but ${problem}`);
    } catch (err) {
      if (!(err instanceof Error)) {
        fail(i, `threw a non-Error ${String(err).slice(0, 200)}`);
      } else if (!target.errors.some((cls) => err instanceof cls)) {
        fail(i, `raw ${err.name}: ${err.message.slice(0, 300)}`);
      } else {
        const code = (err as { code?: unknown }).code;
        const kind = typeof code === 'string' ? `${err.name}:${code}` : err.name;
        stats.rejected.set(kind, (stats.rejected.get(kind) ?? 0) + 1);
        if (!err.message.includes(source)) fail(i, `${err.name} does not name the file: ${err.message.slice(0, 300)}`);
      }
    }
    const ms = performance.now() - start;
    stats.totalMs += ms;
    stats.maxMs = Math.max(stats.maxMs, ms);
    if (ms > MAX_CASE_MS) fail(i, `took ${ms.toFixed(0)} ms (limit ${MAX_CASE_MS})`);
  }
  const rejected = [...stats.rejected].map(([k, v]) => `${k} ${v}`).join(', ');
  t.comment(`${target.name}: ${cases} cases (seed ${seed}), accepted ${stats.accepted}, rejected: ${rejected || 'none'}; ` +
    `slowest ${stats.maxMs.toFixed(1)} ms, total ${(stats.totalMs / 1000).toFixed(2)} s`);
  t.same(failures, [], `${target.name}: ${failed} of ${cases} cases broke the error contract`);
  return stats;
}
