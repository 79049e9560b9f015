// Helpers for the CLIP tests: read test/fixtures/clip/reference.safetensors and compare tensors.
// (Not a test file itself: tap only runs *.test.ts.)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tensor, type Tensor } from '../../engine/index.ts';
import { parseSafetensors, toFloat32, type RawTensor } from '../../engine/io/safetensors.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/clip/', import.meta.url));

let cache: Map<string, RawTensor> | null = null;

/** The raw entries of reference.safetensors (inputs, outputs, gradients, resize and PIL cases). */
export function reference(): Map<string, RawTensor> {
  cache ??= parseSafetensors(readFileSync(FIXTURES + 'reference.safetensors'), 'reference.safetensors').tensors;
  return cache;
}

/** A reference entry as a float32 tensor. */
export function ref(name: string): Tensor {
  const raw = reference().get(name);
  if (!raw) throw new Error(`reference.safetensors has no ${name}`);
  return tensor(toFloat32(raw, name), raw.shape);
}

/** A reference entry's numbers as a plain array. */
export function refValues(name: string): number[] {
  const raw = reference().get(name);
  if (!raw) throw new Error(`reference.safetensors has no ${name}`);
  return Array.from(toFloat32(raw, name));
}

/**
 * max |a − b| / max |b|: the error relative to the scale of the expected tensor. (Elementwise
 * relative error is meaningless for entries near zero, which every random tensor has.)
 */
export function relErr(actual: Tensor | ArrayLike<number>, expected: Tensor | ArrayLike<number>): number {
  const a = 'shape' in actual ? actual.data() : actual;
  const b = 'shape' in expected ? expected.data() : expected;
  if (a.length !== b.length) throw new Error(`relErr: ${a.length} values vs ${b.length}`);
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

export function sameShape(a: Tensor, b: Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}
