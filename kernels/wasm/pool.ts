/**
 * A persistent pool of worker threads that run `gemm_run` on the same shared wasm memory as the
 * main thread, so that one synchronous matmul call uses every core.
 *
 * How a call goes (the control words live at the start of the shared memory):
 *
 *   main thread                                  each worker (blocked in Atomics.wait on GEN)
 *   write the job, DONE = 0, GEN += 1,
 *   Atomics.notify(GEN)                   --->   wakes up, calls gemm_run(job): grabs C blocks
 *   calls gemm_run(job) too: grabs C blocks      from the same atomic counter until none are left,
 *   Atomics.wait(DONE) until DONE = workers <--- DONE += 1, Atomics.notify(DONE), back to sleep
 *
 * Why Atomics.wait and not messages: engine ops are synchronous, so the main thread must block
 * until C is complete. `postMessage` replies arrive only through the event loop, which a blocked
 * thread never runs; `Atomics.wait` is a futex on a word of shared memory and needs no event loop
 * (Node allows it on the main thread; browsers do not, which is one reason this is Node-only).
 * Waking a sleeping thread costs tens of microseconds, so small products skip the pool.
 *
 * Why every worker checks in (DONE) instead of counting finished blocks: a worker that woke late
 * must not still be reading one job when the main thread writes the next one.
 *
 * Node-only, without importing Node: `worker_threads` is fetched with `process.getBuiltinModule`
 * (Node >= 20.16), so this file bundles for a browser, where `createPool` returns null and the
 * backend runs on one thread. Workers are `unref()`ed: an idle pool never keeps a process alive.
 */
import type { Parallel } from './matmul.ts';
import { CONTROL_BYTES, type WasmKernels } from './module.ts';

/** Control words (i32 slots from CONTROL_BYTES). */
const GEN = 0; // bumped once per job; workers sleep while it equals the last value they served
const DONE = 1; // workers that finished the current job
const JOB = 2; // byte address of the current job
const FAILED = 3; // set by a worker whose gemm_run threw (a wasm trap); the main thread rethrows
const BOOTED = 4; // workers that finished starting, well or not
const BROKEN = 5; // workers that could not instantiate the module

/**
 * The worker, as plain JavaScript: no TypeScript loader runs inside it (it is started with no
 * `execArgv`, so the parent's `--import tsx` or test-runner hooks are not loaded again), and it
 * avoids `require` / `import` so it runs whether Node treats `eval` code as CommonJS or as a module.
 * It compiles nothing: it instantiates the main thread's compiled module over the shared memory.
 */
const WORKER_SOURCE = `
const { workerData } = process.getBuiltinModule('node:worker_threads');
const { module, memory, control } = workerData;
const ctl = new Int32Array(memory.buffer, control, 8);
let kernels = null;
try {
  kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
} catch (e) {
  Atomics.add(ctl, ${BROKEN}, 1);
}
Atomics.add(ctl, ${BOOTED}, 1);
Atomics.notify(ctl, ${BOOTED});
let served = 0;
while (kernels !== null) {
  while (Atomics.load(ctl, ${GEN}) === served) Atomics.wait(ctl, ${GEN}, served);
  served++;
  try {
    kernels.gemm_run(Atomics.load(ctl, ${JOB}));
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

/** Starting a worker takes ~30 ms; one that has not started after this long is taken as dead. */
const BOOT_MS = 10_000;
/** A worker that has not checked in after this long is taken as dead (a job's last block takes ms). */
const STUCK_MS = 60_000;

type WorkerThreads = typeof import('node:worker_threads');

function builtin<T>(id: string): T | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (proc?.getBuiltinModule?.(id) as T | undefined) ?? null;
}

/** Block until `ctl[slot]` reaches `target` or `ms` pass; returns the last value seen. */
function waitFor(ctl: Int32Array, slot: number, target: number, ms: number): number {
  const deadline = Date.now() + ms;
  let seen = Atomics.load(ctl, slot);
  while (seen < target && Date.now() < deadline) {
    Atomics.wait(ctl, slot, seen, Math.min(1000, Math.max(1, deadline - Date.now())));
    seen = Atomics.load(ctl, slot);
  }
  return seen;
}

/** How many threads to use in all (main + workers): the cores this process may use. */
export function defaultThreads(): number {
  const os = builtin<typeof import('node:os')>('node:os');
  return os ? Math.max(1, os.availableParallelism()) : 1;
}

/**
 * A pool of `threads - 1` workers plus the calling thread, or null when worker threads are not
 * available (a browser, Node < 20.16), `threads` is 1, or the workers failed to start (then the
 * backend runs on one thread, after a warning). Blocks until the workers are up (~30 ms, once).
 */
export function createPool(kernels: WasmKernels, threads: number): Parallel | null {
  const wt = builtin<WorkerThreads>('node:worker_threads');
  if (wt === null || threads < 2) return null;
  const ctl = new Int32Array(kernels.memory.buffer, CONTROL_BYTES, 8);
  const workers = threads - 1;
  const started: InstanceType<WorkerThreads["Worker"]>[] = [];
  for (let w = 0; w < workers; w++) {
    const worker = new wt.Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { module: kernels.module, memory: kernels.memory, control: CONTROL_BYTES },
    });
    worker.unref();
    started.push(worker);
  }
  if (waitFor(ctl, BOOTED, workers, BOOT_MS) < workers || Atomics.load(ctl, BROKEN) > 0) {
    for (const worker of started) void worker.terminate();
    console.warn(`spt-seg wasm backend: worker threads did not start; matmul runs on one thread`);
    return null;
  }
  return {
    threads,
    run(job: number): void {
      Atomics.store(ctl, DONE, 0);
      Atomics.store(ctl, JOB, job);
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN);
      let failure: unknown = null;
      try {
        kernels.exports.gemm_run(job);
      } catch (e) {
        failure = e;
      }
      // Even if this thread failed, wait: the workers are still writing into the shared memory.
      const done = waitFor(ctl, DONE, workers, STUCK_MS);
      if (done < workers) throw new Error(`wasm thread pool: ${workers - done} worker(s) did not finish within ${STUCK_MS / 1000} s`);
      if (failure !== null) throw failure;
      if (Atomics.exchange(ctl, FAILED, 0) !== 0) throw new Error('wasm matmul failed in a worker thread');
    },
  };
}
