/**
 * State trees: what `stateDict()` of an optimizer, a schedule or a generator returns, and the checks
 * `loadStateDict` runs on what it is given.
 *
 * A state tree is plain data: objects and arrays whose leaves are tensors, numbers, strings,
 * booleans or null. A checkpoint writer stores the tensors in a safetensors file (keeping their
 * dtype, so float32 moments come back bit for bit) and the rest as JSON (train/checkpoint.ts).
 * Numbers in JSON round-trip exactly (JavaScript prints the shortest string that reads back to the
 * same double), so a learning rate or a step count is restored exactly too.
 *
 * Not here: serialisation itself (engine/io, train/checkpoint.ts).
 */
import { fmtShape, shapesEqual } from '../shape.ts';
import { Tensor } from '../tensor.ts';

/** A value of a state tree. */
export type StateTree =
  | Tensor | number | string | boolean | null
  | readonly StateTree[] | { readonly [key: string]: StateTree };

/** A state tree whose root is an object. */
export type StateObject = { readonly [key: string]: StateTree };

/** `value` as an object, or an error naming `where` (e.g. "AdamW state dict: state.3"). */
export function asObject(value: StateTree | undefined, where: string): StateObject {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value) || value instanceof Tensor) {
    throw new Error(`${where}: expected an object, got ${describe(value)}`);
  }
  return value as StateObject;
}

export function asArray(value: StateTree | undefined, where: string): readonly StateTree[] {
  if (!Array.isArray(value)) throw new Error(`${where}: expected an array, got ${describe(value)}`);
  return value as readonly StateTree[];
}

export function asNumber(value: StateTree | undefined, where: string): number {
  if (typeof value !== 'number') throw new Error(`${where}: expected a number, got ${describe(value)}`);
  return value;
}

export function asString(value: StateTree | undefined, where: string): string {
  if (typeof value !== 'string') throw new Error(`${where}: expected a string, got ${describe(value)}`);
  return value;
}

export function asBoolean(value: StateTree | undefined, where: string): boolean {
  if (typeof value !== 'boolean') throw new Error(`${where}: expected a boolean, got ${describe(value)}`);
  return value;
}

/**
 * A saved state tensor for parameter `p`: checked to have `p`'s shape and a float dtype, and put on
 * `p`'s backend in `p`'s dtype (a checkpoint loader may have made it elsewhere).
 */
export function stateTensorFor(value: StateTree | undefined, p: Tensor, where: string): Tensor {
  if (!(value instanceof Tensor)) throw new Error(`${where}: expected a tensor, got ${describe(value)}`);
  if (!shapesEqual(value.shape, p.shape)) {
    throw new Error(`${where}: has shape ${fmtShape(value.shape)} but its parameter has shape ${fmtShape(p.shape)}`);
  }
  if (value.dtype === 'int32') throw new Error(`${where}: expected a floating point tensor, got int32`);
  const backend = p.storage.backend;
  let storage = value.storage.backend === backend ? value.storage : backend.fromArray(value.data(), value.dtype);
  if (storage.dtype !== p.dtype) storage = backend.cast(storage, p.dtype);
  return new Tensor(storage, p.shape);
}

function describe(value: StateTree | undefined): string {
  if (value === undefined) return 'nothing (missing)';
  if (value instanceof Tensor) return `a tensor of shape ${fmtShape(value.shape)}`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
