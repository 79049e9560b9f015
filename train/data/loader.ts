/**
 * Batches of augmented samples, decoded ahead of the model in worker threads.
 *
 * Does: an endless stream (the training loop's DataStream) of { images [B, 3, H, W] float32, labels
 *   [B, H, W] int32 } that walks the data positions (epoch, index) in order, epoch after epoch (an epoch
 *   is a seeded shuffle of the dataset; a batch may span two epochs). Up to `prefetch` batches of
 *   samples are in flight at once, spread over `workers` threads (0: in the main thread, still ahead
 *   of time thanks to async file reads). Results are put back in position order, and each sample's
 *   augmentation is seeded by (seed, epoch, index) only (sample-job.ts), so batches are identical for
 *   any worker count and timing, and `loadStateDict` (the position) resumes exactly.
 * Bad samples (missing or corrupt image or mask) name the file: with onBadSample 'fail' `next()` throws;
 *   with 'skip' the sample is left out, the next position fills the batch, and `report()` / `close()`
 *   list what was skipped. `close()` terminates the workers; idle workers are unref'd, so a forgotten
 *   close never keeps the process alive (workers with work in flight are ref'd, so an awaited batch is
 *   never cut off).
 * Does not: batch images of different sizes (train mode crops and pads to one size; test mode
 *   needs batchSize 1).
 * Glossary: B batch, H, W crop height and width.
 */
import { Worker } from 'node:worker_threads';
import { tensor, type Tensor } from '../../engine/index.ts';
import type { AugmentOptions } from './augment.ts';
import type { SegDataset } from './dataset.ts';
import { epochOrder, runSampleJob, sampleSeed, type LoaderMode, type SampleJob, type SampleResult } from './sample-job.ts';

/** Where a sample sits in the run: its epoch and its index in that epoch's order. */
export interface DataPosition { epoch: number; index: number }

/** Options of `SegLoader`. */
export interface LoaderOptions {
  batchSize: number;
  /** Seed of the epoch order and the augmentation; default 0. */
  seed?: number;
  /** Shuffle each epoch; default true. */
  shuffle?: boolean;
  /** Worker threads; default 0 (main thread). */
  workers?: number;
  /** Batches decoded ahead; default 2. */
  prefetch?: number;
  /** 'train' (augment, default) or 'test' (keep-ratio resize to short side 512, batchSize 1). */
  mode?: 'train' | 'test';
  augment?: AugmentOptions;
  /** What a bad sample does: 'fail' (default) the run, or 'skip' it (counted and reported). */
  onBadSample?: 'skip' | 'fail';
}

/** One batch from `SegLoader.next`. */
export interface SegBatch {
  images: Tensor; // [B, 3, H, W] float32
  labels: Tensor; // [B, H, W] int32, 255 = ignore (test mode: [1, H0, W0], the original size)
  names: string[];
  /** The data position of each sample. */
  positions: DataPosition[];
}

/** A sample left out under onBadSample 'skip': its file, the error and where it was. */
export interface SkippedSample { file: string; message: string; position: DataPosition }

/** What a loader delivered so far: batches, samples and the skipped ones. */
export interface LoaderReport { batches: number; samples: number; skipped: SkippedSample[] }

/** The loader's state in a checkpoint: the next data position to consume (JSON numbers). */
export type LoaderState = { epoch: number; index: number; seed: number };

type Pending = { resolve: (r: SampleResult) => void; reject: (e: Error) => void };
/** A worker, its jobs awaiting an answer by id, and the error that killed it, if any. */
type WorkerSlot = { worker: Worker; pending: Map<number, Pending>; failed: Error | null };

/**
 * Batches of augmented samples from a dataset, in a seeded, resumable order, decoded ahead on worker threads;
 * bad samples fail the run or are skipped and reported.
 *
 * @example
 * const loader = new SegLoader(voc, { batchSize: 4, seed: 0, workers: 2 });
 * const { images, labels } = await loader.next();   // [4, 3, 512, 512], [4, 512, 512]
 * await loader.close();
 */
export class SegLoader {
  private readonly opts: Required<Omit<LoaderOptions, 'augment'>> & { augment: AugmentOptions };
  private readonly mode: LoaderMode;
  private readonly workers: WorkerSlot[] = [];
  private nextJobId = 0;
  private orders = new Map<number, Int32Array>();
  /** Results by linear position (epoch · N + index), requested ahead of `cursor`. */
  private inFlight = new Map<number, Promise<SampleResult>>();
  private cursor = 0; // next linear position to consume
  private requested = 0; // next linear position to request
  private batches = 0;
  private samples = 0;
  private readonly skipped: SkippedSample[] = [];
  private closed = false;

  constructor(readonly dataset: SegDataset, options: LoaderOptions) {
    this.opts = {
      batchSize: options.batchSize, seed: options.seed ?? 0, shuffle: options.shuffle ?? true, workers: options.workers ?? 0,
      prefetch: options.prefetch ?? 2, mode: options.mode ?? 'train', onBadSample: options.onBadSample ?? 'fail', augment: options.augment ?? {},
    };
    const { batchSize, workers, prefetch } = this.opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`SegLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(workers) || workers < 0) throw new Error(`SegLoader: workers must be a non-negative integer, got ${workers}`);
    if (!Number.isInteger(prefetch) || prefetch < 1) throw new Error(`SegLoader: prefetch must be a positive integer, got ${prefetch}`);
    if (this.opts.mode === 'test' && batchSize !== 1) throw new Error('SegLoader: test mode keeps each image\'s size, so batchSize must be 1');
    if (dataset.length === 0) throw new Error('SegLoader: the dataset is empty');
    this.mode = { kind: this.opts.mode, augment: this.opts.augment };
    for (let w = 0; w < workers; w++) this.workers.push(this.startWorker());
  }

  /** The position of the next sample `next()` will consume. */
  get position(): DataPosition { return this.toPosition(this.cursor); }

  async next(): Promise<SegBatch> {
    if (this.closed) throw new Error('SegLoader: next() after close()');
    const { batchSize } = this.opts;
    const results: { r: SampleResult & { ok: true }; pos: DataPosition }[] = [];
    let badInARow = 0;
    while (results.length < batchSize) {
      this.fill();
      const linear = this.cursor;
      const r = await (this.inFlight.get(linear) as Promise<SampleResult>);
      this.inFlight.delete(linear);
      this.cursor++;
      const pos = this.toPosition(linear);
      if (r.ok) { results.push({ r, pos }); badInARow = 0; continue; }
      if (this.opts.onBadSample === 'fail') {
        throw new Error(`${r.message} (data position epoch ${pos.epoch}, index ${pos.index}; use onBadSample 'skip' to leave bad samples out)`);
      }
      this.skipped.push({ file: r.file, message: r.message, position: pos });
      if (++badInARow >= this.dataset.length) throw new Error(`SegLoader: every sample is bad (${badInARow} in a row; the last: ${r.message})`);
    }
    this.fill();
    const { height: H, width: W, labelHeight: LH, labelWidth: LW } = results[0].r;
    const images = new Float32Array(batchSize * 3 * H * W);
    const labels = new Int32Array(batchSize * LH * LW);
    results.forEach(({ r }, b) => {
      if (r.height !== H || r.width !== W) throw new Error(`SegLoader: sample ${r.name} is ${r.height}x${r.width}, not ${H}x${W} like the rest of the batch`);
      images.set(r.image, b * 3 * H * W);
      labels.set(r.label, b * LH * LW);
    });
    this.batches++;
    this.samples += batchSize;
    return {
      images: tensor(images, [batchSize, 3, H, W]),
      labels: tensor(labels, [batchSize, LH, LW], { dtype: 'int32' }),
      names: results.map(({ r }) => r.name),
      positions: results.map(({ pos }) => pos),
    };
  }

  stateDict(): LoaderState {
    return { ...this.position, seed: this.opts.seed };
  }

  /** Continue from a saved position: requests made ahead of time are dropped. */
  loadStateDict(state: unknown): void {
    const s = state as Partial<LoaderState> | null;
    const ok = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
    if (!s || !ok(s.epoch) || !ok(s.index) || (s.index as number) >= this.dataset.length) {
      throw new Error(`SegLoader.loadStateDict: expected { epoch, index < ${this.dataset.length}, seed }, got ${JSON.stringify(state)}`);
    }
    if (s.seed !== undefined && s.seed !== this.opts.seed) {
      throw new Error(`SegLoader.loadStateDict: the state was saved with seed ${s.seed}, this loader has seed ${this.opts.seed}`);
    }
    this.inFlight.clear(); // their results arrive and are ignored
    this.cursor = this.requested = (s.epoch as number) * this.dataset.length + (s.index as number);
  }

  report(): LoaderReport {
    return { batches: this.batches, samples: this.samples, skipped: [...this.skipped] };
  }

  /** Stop the workers; returns the report (what was skipped). Safe to call twice. */
  async close(): Promise<LoaderReport> {
    if (!this.closed) {
      this.closed = true;
      const workers = this.workers.splice(0);
      for (const { pending } of workers) for (const p of pending.values()) p.reject(new Error('SegLoader: closed'));
      await Promise.all(workers.map(({ worker }) => worker.terminate()));
    }
    return this.report();
  }

  // -------------------------------------------------------------------------------------------

  private toPosition(linear: number): DataPosition {
    const n = this.dataset.length;
    return { epoch: Math.floor(linear / n), index: linear % n };
  }

  private order(epoch: number): Int32Array {
    let order = this.orders.get(epoch);
    if (!order) {
      order = epochOrder(this.dataset.length, this.opts.seed, epoch, this.opts.shuffle);
      this.orders.set(epoch, order);
      for (const e of this.orders.keys()) if (e < epoch - 1) this.orders.delete(e);
    }
    return order;
  }

  /** Request every position up to prefetch · batchSize ahead of the cursor. */
  private fill(): void {
    const ahead = this.opts.prefetch * this.opts.batchSize;
    if (this.requested < this.cursor) this.requested = this.cursor;
    for (; this.requested < this.cursor + ahead; this.requested++) {
      const { epoch, index } = this.toPosition(this.requested);
      const job: SampleJob = { datasetIndex: this.order(epoch)[index], seed: sampleSeed(this.opts.seed, epoch, index) };
      const result = this.run(job);
      result.catch(() => undefined); // a result dropped by loadStateDict or close must not become an unhandled rejection
      this.inFlight.set(this.requested, result);
    }
  }

  private run(job: SampleJob): Promise<SampleResult> {
    if (this.workers.length === 0) return runSampleJob(this.dataset, job, this.mode);
    // The least busy worker; ties go to the lowest index. Which worker runs a job changes nothing.
    const slot = this.workers.reduce((best, w) => (w.pending.size < best.pending.size ? w : best));
    if (slot.failed) return Promise.reject(slot.failed);
    const id = this.nextJobId++;
    return new Promise<SampleResult>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, job });
    });
  }

  private startWorker(): WorkerSlot {
    const worker = spawnWorker();
    const pending = new Map<number, Pending>();
    const slot: WorkerSlot = { worker, pending, failed: null };
    worker.postMessage({ init: { spec: this.dataset.spec, mode: this.mode } });
    worker.unref();
    worker.on('message', (msg: { id: number; result?: SampleResult; error?: string }) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (pending.size === 0) worker.unref();
      if (msg.result) p.resolve(msg.result);
      else p.reject(new Error(`SegLoader worker: ${msg.error}`));
    });
    worker.on('error', (err: Error) => {
      slot.failed = new Error(`SegLoader worker failed: ${err.message}`);
      for (const p of pending.values()) p.reject(slot.failed);
      pending.clear();
      worker.unref();
    });
    return slot;
  }
}

/**
 * A worker running worker.ts, or the built worker.js beside the built loader.js (`npm run build`).
 * Under tsx (this file is .ts), the worker first registers tsx's loader (workers do not inherit it),
 * through a tiny ES module given as a data: URL.
 */
function spawnWorker(): Worker {
  const source = import.meta.url.endsWith('.ts');
  const entry = new URL(source ? './worker.ts' : './worker.js', import.meta.url);
  if (!source) return new Worker(entry);
  const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\n`
    + `register();\nawait import(${JSON.stringify(entry.href)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}
