/**
 * One unit of loader work, the same in the main thread and in a worker: read sample `datasetIndex`,
 * augment it with its own generator, and report a bad file instead of throwing.
 *
 * Determinism: the generator of the sample at data position (epoch, index) is seeded with
 * `sampleSeed(seed, epoch, index)`, and the epoch's order with `epochSeed(seed, epoch)`, so what a
 * sample becomes depends on nothing else: not the worker that ran it, not the timing, not a resume.
 */
import { Generator } from '../../engine/rng.ts';
import { trainTransform, testTransform, type AugmentOptions } from './augment.ts';
import { BadSampleError, type SegDataset } from './dataset.ts';

export interface SampleJob {
  datasetIndex: number;
  /** Seed of the sample's generator (sampleSeed). */
  seed: number;
}

export type SampleResult =
  | {
    ok: true;
    /** [3, height, width] float32. */
    image: Float32Array; height: number; width: number;
    /** [labelHeight, labelWidth]: the image's size in train mode, the original size in test mode. */
    label: Uint8Array; labelHeight: number; labelWidth: number;
    name: string;
  }
  | { ok: false; file: string; message: string };

/** 'train' runs the augmentation pipeline; 'test' resizes keep-ratio and normalises (batch 1 then). */
export type LoaderMode = { kind: 'train'; augment: AugmentOptions } | { kind: 'test'; augment: AugmentOptions };

/** A 32-bit hash of a few integers (murmur3's finaliser over a running mix). */
export function mixSeed(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ Math.floor(v / 2 ** 32), 0x01000193) >>> 0;
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export const sampleSeed = (seed: number, epoch: number, index: number): number => mixSeed(seed, epoch, index, 1);
export const epochSeed = (seed: number, epoch: number): number => mixSeed(seed, epoch, 0);

/** The order of an epoch: a seeded Fisher-Yates shuffle of 0..n-1, or 0..n-1 itself. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (!shuffle) return order;
  const gen = new Generator(epochSeed(seed, epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = gen.int(0, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export async function runSampleJob(dataset: SegDataset, job: SampleJob, mode: LoaderMode): Promise<SampleResult> {
  try {
    const sample = await dataset.get(job.datasetIndex);
    if (mode.kind === 'test') {
      const t = testTransform(sample, mode.augment);
      return { ok: true, image: t.image, height: t.height, width: t.width, label: sample.label, labelHeight: sample.height, labelWidth: sample.width, name: sample.name };
    }
    const a = trainTransform(sample, new Generator(job.seed), mode.augment);
    return { ok: true, image: a.image, height: a.height, width: a.width, label: a.label, labelHeight: a.height, labelWidth: a.width, name: sample.name };
  } catch (err) {
    if (err instanceof BadSampleError) return { ok: false, file: err.file, message: err.message };
    throw err;
  }
}
