/**
 * For tests that check an op runs on its input's backend rather than the global one: the name of a
 * registered CPU backend other than the active one (null when only one is registered).
 */
import { backendNames, getBackend } from '../../engine/index.ts';

export function otherCpuBackend(): string | null {
  const active = getBackend().name;
  return backendNames().find((n) => n !== active && n !== 'gpu') ?? null;
}
