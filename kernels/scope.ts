/**
 * The part of a `tidy` scope every backend with scoped memory shares (kernels/gpu/storage.ts for
 * gpu.js, kernels/cpu/pool.ts for the CPU backends): open a new innermost scope on a stack, run `fn`
 * synchronously, close the scope, and hand back what it collected. What to keep and how to free the
 * rest is each backend's own business.
 */

/** Run `fn` with a new innermost scope on `stack`; returns its result and the storages the scope collected. */
export function runInScope<S, T>(stack: Set<S>[], fn: () => T): { result: T; scope: Set<S> } {
  const scope = new Set<S>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    stack.pop();
  }
  if (result instanceof Promise) throw new Error('tidy(fn): fn returned a Promise; tidy scopes must be synchronous');
  return { result, scope };
}
