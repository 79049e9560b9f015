/**
 * The one training loop of SPT-SEG and the world CLIP: `spt-seg train` (VOC, COCO-Stuff, a folder),
 * `spt-seg world` / `ablate` (train/world/run.ts) and `spt-seg pretrain` (train/pretrain.ts) run it.
 * The shapes demo (train/demo/trainer.ts) steps a plain loop of its own: a fresh batch per step, nothing to resume.
 *
 * Does, per optimizer step (`it` counts from 0; reports and checkpoints count completed steps):
 *   1. lr ← schedule(it); fetch `accumulate` micro-batches from the data stream (awaited: a worker
 *      loader may decode them ahead);
 *   2. in one `tidy` scope: forward, loss, backward of loss / accumulate for each micro-batch (the
 *      gradients add up in the parameters' `.grad`), returning the loss terms detached;
 *   3. read the loss terms; a NaN or Inf total stops the run *before* the update, so the weights and
 *      the last checkpoint stay good;
 *   4. in a second `tidy` scope: clip the gradient norm (or only measure it, to log), take the optimizer step;
 *   5. append a line to `log.jsonl`; every `checkpointEvery` steps, at the end and on Ctrl-C, write
 *      the checkpoint (train/checkpoint.ts).
 * A checkpoint holds the model's state dict, the optimizer's and schedule's state, every RNG stream
 * the run draws from (dropout's, augmentation's), the data stream's position and the step, so
 * `resume` continues the run exactly: an interrupted and resumed run logs the same per-step losses,
 * bit for bit, as one that never stopped (test/train/loop.test.ts kills a run with SIGKILL to check).
 * Does not: build the model, the data or the loss (the task does), or parse flags (cli/).
 *
 * Memory: both scopes keep only the parameters (with their grads) and the optimizer state, so device
 * memory stays flat from step to step (engine/memory.ts); batches are disposed after their step.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dispose, noGrad, Tensor, tidy, type Generator, type TensorContainer } from '../engine/index.ts';
import type { Module } from '../engine/nn/index.ts';
import { clipGradNorm, gradNorm as measureGradNorm, type Optimizer } from '../engine/optim/index.ts';
import { child, loadCheckpoint, saveCheckpoint, tensorMap, type State } from './checkpoint.ts';
import { Progress } from './progress.ts';
import { lineChart, PALETTE } from './plot.ts';
import { writePng } from '../engine/io/image.ts';

/** Something whose state a checkpoint carries. */
export interface Stateful {
  stateDict(): State;
  loadStateDict(state: State): void;
}

/** An endless, deterministic stream of batches whose position can be saved and restored. */
export interface DataStream<B> extends Stateful {
  next(): B | Promise<B>;
}

/** What the task's loss returns: the total to differentiate and any terms to log (tensors or numbers). */
export interface LossTerms {
  total: Tensor;
  [term: string]: Tensor | number;
}

/** A learning-rate schedule: a function of the 0-based iteration, optionally with state. */
export type Schedule = ((it: number) => number) & Partial<Stateful>;

export interface TrainTask<B> {
  model: Module;
  optimizer: Optimizer & Stateful;
  schedule: Schedule;
  data: DataStream<B>;
  /** Forward and loss for one micro-batch, with grad recording on. */
  loss(batch: B, it: number): LossTerms;
  /** Every RNG stream the run draws from, by name (e.g. `{ dropout: defaultGenerator }`). */
  generators?: Record<string, Generator>;
  /** The tensors a checkpoint stores for the model (default: `model.stateDict()`). */
  modelState?(): Map<string, Tensor>;
  /** Restore what `modelState` saved (default: `model.loadStateDict(..., { strict: true })`). */
  loadModelState?(tensors: Map<string, Tensor>): void;
}

export interface LoopOptions {
  /** Total optimizer steps of the run (a resumed run stops at the same total). */
  steps: number;
  /** Micro-batches per optimizer step (gradient accumulation; default 1). */
  accumulate?: number;
  /** Clip the global gradient norm to this (null: no clipping). */
  clipNorm?: number | null;
  /** Where `checkpoint.safetensors` and `log.jsonl` go; null keeps nothing on disk. */
  outDir?: string | null;
  /** Write a checkpoint every this many steps (0: only at the end and on Ctrl-C). */
  checkpointEvery?: number;
  /** A checkpoint to continue from, or 'auto' for `outDir/checkpoint.safetensors` when it exists. */
  resume?: string | null;
  /** Stored in the checkpoint and the log, for the record (the run's configuration). */
  config?: State;
  /** The progress bar's label; null for no bar. */
  label?: string | null;
  /** Stop early after this many completed steps (a time-boxed session of a longer run), saving a checkpoint. */
  stopAt?: number;
  /** Called after every step (and given the record the log gets). */
  onStep?: (record: StepRecord) => void;
  /** Save and stop cleanly on SIGINT (default true when `outDir` is set). */
  handleSigint?: boolean;
}

export interface StepRecord {
  /** Completed optimizer steps, from 1. */
  step: number;
  lr: number;
  /** The loss terms averaged over the micro-batches, `total` first. */
  loss: Record<string, number>;
  /** The gradient norm before clipping (when clipping is on). */
  gradNorm?: number;
}

export type StopReason = 'done' | 'interrupted' | 'paused';

export interface LoopResult {
  /** Completed steps at the end (equal to `steps` unless interrupted). */
  step: number;
  /** Steps of this call only (a resumed run starts where the checkpoint was). */
  records: StepRecord[];
  stopped: StopReason;
  /** The last checkpoint written, if any. */
  checkpoint: string | null;
}

/** Thrown when the loss stops being finite; the message names the step, the terms and the checkpoint kept. */
export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly terms: Record<string, number>, readonly checkpoint: string | null) {
    const shown = Object.entries(terms).map(([k, v]) => `${k} ${v}`).join(', ');
    super(`the loss is not finite at step ${step} (${shown}); the weights were not updated. `
      + (checkpoint ? `The last good checkpoint is ${checkpoint}.` : 'No checkpoint was written yet.')
      + ' Try a lower learning rate, gradient clipping, or check the data for NaN values.');
    this.name = 'NonFiniteLossError';
  }
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const LOG_FILE = 'log.jsonl';
export const CURVE_FILE = 'loss.png';

/** Train `task` for `opts.steps` optimizer steps (or until Ctrl-C), resuming if asked. */
export async function runTraining<B>(task: TrainTask<B>, opts: LoopOptions): Promise<LoopResult> {
  const accumulate = opts.accumulate ?? 1;
  if (!Number.isInteger(opts.steps) || opts.steps < 0) throw new Error(`steps must be a non-negative integer, got ${opts.steps}`);
  if (!Number.isInteger(accumulate) || accumulate < 1) throw new Error(`accumulate must be a positive integer, got ${accumulate}`);
  const outDir = opts.outDir ?? null;
  const ckptPath = outDir ? join(outDir, CHECKPOINT_FILE) : null;
  const logPath = outDir ? join(outDir, LOG_FILE) : null;
  if (outDir) await mkdir(outDir, { recursive: true });

  let step = 0;
  const resumeFrom = opts.resume === 'auto' ? (ckptPath && existsSync(ckptPath) ? ckptPath : null) : (opts.resume ?? null);
  if (resumeFrom) step = await restore(task, resumeFrom);
  if (logPath) await trimLog(logPath, step);

  const params = task.model.parameters();
  const keep = (): Tensor[] => [...params, ...task.optimizer.stateTensors()];
  let lastCheckpoint: string | null = resumeFrom;
  const save = async (): Promise<void> => {
    if (!ckptPath) return;
    await saveCheckpoint(ckptPath, snapshot(task, step, opts.config ?? null));
    lastCheckpoint = ckptPath;
    if (logPath && outDir) await writeLossCurve(logPath, join(outDir, CURVE_FILE));
  };

  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130); // a second Ctrl-C does not wait for the save
    interrupted = true;
    process.stderr.write('\ninterrupted: finishing this step and saving a checkpoint (Ctrl-C again to quit at once)\n');
  };
  const sigint = opts.handleSigint ?? outDir !== null;
  if (sigint) process.on('SIGINT', onSigint);

  const label = opts.label === undefined ? 'train' : opts.label;
  const bar = label === null || step >= opts.steps ? null : new Progress({ total: opts.steps, label, initial: step });
  const records: StepRecord[] = [];
  try {
    const until = Math.min(opts.steps, opts.stopAt ?? Infinity);
    while (step < until && !interrupted) {
      const it = step;
      const lr = task.schedule(it);
      task.optimizer.lr = lr;
      const batches: B[] = [];
      for (let m = 0; m < accumulate; m++) batches.push(await task.data.next());

      // Forward and backward; the detached terms come out of the scope, the graph does not.
      const terms = tidy(() => {
        task.optimizer.zeroGrad();
        const sums: Record<string, Tensor | number>[] = [];
        for (const batch of batches) {
          const t = task.loss(batch, it);
          (accumulate === 1 ? t.total : t.total.div(accumulate)).backward();
          sums.push(detachTerms(t));
        }
        return sums;
      }, keep);
      const loss = await averageTerms(terms);
      for (const b of batches) dispose(b as TensorContainer);
      if (!Number.isFinite(loss.total)) throw new NonFiniteLossError(it + 1, loss, lastCheckpoint);

      let gradNorm: number | undefined;
      tidy(() => {
        gradNorm = opts.clipNorm != null ? clipGradNorm(params, opts.clipNorm) : measureGradNorm(params);
        task.optimizer.step();
      }, keep);
      step++;

      const record: StepRecord = { step, lr, loss, ...(gradNorm === undefined ? {} : { gradNorm }) };
      records.push(record);
      if (logPath) await appendFile(logPath, `${JSON.stringify(record)}\n`);
      bar?.update(step, { ...loss, lr });
      opts.onStep?.(record);
      const every = opts.checkpointEvery ?? 0;
      if (every > 0 && step % every === 0 && step < until) await save();
    }
    bar?.done();
    await save();
    const stopped: StopReason = interrupted ? 'interrupted' : step < opts.steps ? 'paused' : 'done';
    return { step, records, stopped, checkpoint: lastCheckpoint };
  } finally {
    if (sigint) process.off('SIGINT', onSigint);
  }
}

/** Everything the run needs to continue, as a checkpoint state tree. */
function snapshot<B>(task: TrainTask<B>, step: number, config: State): State {
  const model = task.modelState ? task.modelState() : task.model.stateDict();
  const generators: Record<string, State> = {};
  for (const [name, g] of Object.entries(task.generators ?? {})) generators[name] = g.stateDict();
  return {
    step,
    model: Object.fromEntries(model),
    optimizer: task.optimizer.stateDict(),
    schedule: task.schedule.stateDict ? task.schedule.stateDict() : null,
    generators,
    data: task.data.stateDict(),
    config,
  };
}

/** Load a checkpoint into the task's objects; returns the completed step count. */
async function restore<B>(task: TrainTask<B>, path: string): Promise<number> {
  const state = await loadCheckpoint(path);
  const model = tensorMap(child(state, 'model', path), path);
  if (task.loadModelState) task.loadModelState(model);
  else noGrad(() => task.model.loadStateDict(model, { strict: true }));
  task.optimizer.loadStateDict(child(state, 'optimizer', path));
  const schedule = child(state, 'schedule', path);
  if (schedule !== null && task.schedule.loadStateDict) task.schedule.loadStateDict(schedule);
  const generators = child(state, 'generators', path) as Record<string, State>;
  for (const [name, g] of Object.entries(task.generators ?? {})) {
    const s = generators[name];
    if (s === undefined) throw new Error(`${path}: the checkpoint has no state for the RNG stream "${name}"`);
    g.loadStateDict(s);
  }
  task.data.loadStateDict(child(state, 'data', path));
  const step = child(state, 'step', path);
  if (typeof step !== 'number') throw new Error(`${path}: "step" is not a number`);
  return step;
}

/**
 * The loss curve of a run's log as a PNG: the total (smoothed over ~2% of the steps) in the first
 * colour, each other term in the next ones, on a log axis. Returns the terms in colour order.
 */
export async function writeLossCurve(logPath: string, pngPath: string): Promise<string[]> {
  const records = (await readFile(logPath, 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as StepRecord);
  const names = records.length ? Object.keys(records[0].loss) : [];
  const smooth = Math.max(1, Math.round(records.length / 50));
  const series = names.map((name, i) => ({
    name, values: records.map((r) => r.loss[name] ?? NaN), color: PALETTE[i % PALETTE.length], smooth,
  }));
  await writePng(pngPath, lineChart(series, {
    log: true, firstStep: records.length ? records[0].step : 1, xLabel: 'training step', yLabel: 'loss',
    title: smooth > 1 ? `moving average over ${smooth} steps` : undefined,
  }));
  return names;
}

/** Drop log lines past `step` (a run resumed from an earlier checkpoint rewrites them). */
async function trimLog(path: string, step: number): Promise<void> {
  if (!existsSync(path)) return;
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const kept = lines.filter((l) => {
    try {
      return (JSON.parse(l) as { step?: number }).step! <= step;
    } catch {
      return false; // a line cut short by a kill
    }
  });
  await writeFile(path, kept.map((l) => `${l}\n`).join(''));
}

/** The loss terms as detached tensors (numbers pass through), so they survive the tidy scope. */
function detachTerms(t: LossTerms): Record<string, Tensor | number> {
  const out: Record<string, Tensor | number> = {};
  for (const [k, v] of Object.entries(t)) out[k] = v instanceof Tensor ? v.detach() : v;
  return out;
}

/** Read and average the terms of the micro-batches (`total` first). */
async function averageTerms(terms: Record<string, Tensor | number>[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of terms) {
    for (const [k, v] of Object.entries(t)) {
      const x = v instanceof Tensor ? (await v.dataAsync())[0] : v;
      out[k] = (out[k] ?? 0) + x / terms.length;
    }
  }
  for (const t of terms) dispose(Object.values(t).filter((v): v is Tensor => v instanceof Tensor));
  return { total: out.total, ...out };
}
