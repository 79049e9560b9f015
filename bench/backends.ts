/**
 * The backends a benchmark can compare on this machine: always the reference "cpu"; "wasm" and
 * "gpu" when their modules load (they are optional here so the benches run while they evolve).
 */
import { CpuBackend } from '../kernels/cpu/index.ts';
import type { Backend } from '../kernels/backend.ts';

export async function availableBackends(): Promise<{ name: string; backend: Backend }[]> {
  const out: { name: string; backend: Backend }[] = [{ name: 'cpu', backend: new CpuBackend() }];
  try {
    const wasm = await import('../kernels/wasm/index.ts');
    const b = wasm.createWasmBackend();
    if (b) out.push({ name: 'wasm', backend: b });
  } catch (err) {
    console.error(`(wasm backend unavailable: ${(err as Error).message})`);
  }
  return out;
}
