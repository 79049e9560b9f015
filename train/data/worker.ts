/**
 * The loader's worker thread: opens the dataset from its spec, then answers sample jobs in the order
 * they come. Messages: in { init: { spec, mode } } then { id, job }; out { id, result } (the arrays'
 * buffers are transferred, not copied) or { id, error } for an unexpected failure.
 */
import { parentPort } from 'node:worker_threads';
import type { DatasetSpec, SegDataset } from './dataset.ts';
import { openDataset } from './open.ts';
import { runSampleJob, type LoaderMode, type SampleJob } from './sample-job.ts';

type Incoming = { init: { spec: DatasetSpec; mode: LoaderMode } } | { id: number; job: SampleJob };

const port = parentPort;
if (!port) throw new Error('train/data/worker.ts must run in a worker thread');
let dataset: SegDataset | null = null;
let mode: LoaderMode | null = null;
// Jobs run one after another, so the worker reads one file at a time.
let chain: Promise<void> = Promise.resolve();

port.on('message', (msg: Incoming) => {
  if ('init' in msg) {
    dataset = openDataset(msg.init.spec);
    mode = msg.init.mode;
    return;
  }
  chain = chain.then(async () => {
    try {
      if (!dataset || !mode) throw new Error('worker: job before init');
      const result = await runSampleJob(dataset, msg.job, mode);
      port.postMessage({ id: msg.id, result }, result.ok ? [result.image.buffer as ArrayBuffer, result.label.buffer as ArrayBuffer] : []);
    } catch (err) {
      port.postMessage({ id: msg.id, error: (err as Error).stack ?? String(err) });
    }
  });
});
