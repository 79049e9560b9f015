/**
 * Browser entry for test/browser/training.test.ts: bundled by tools/browser/bundle.ts and run in
 * Chromium. It exposes `window.sptTrainingReplay(mode, run, steps)`, which replays a PyTorch
 * training fixture (test/helpers/train-replay.ts, the same code the Node parity test runs) on the
 * gpu.js backend in that mode, and reports the losses and what really ran: the gpu.js kernel
 * classes, the backend's mode line, the renderer / adapter as the page sees it, and the live device
 * buffers after every step. The fixture's bytes come from the test's server (`fetch`).
 */
import { setBackend } from '../../engine/index.ts';
import { pageRenderer, sptUnavailable } from './probe.ts';
import { createGpuBackend, type GpuMode } from '../../kernels/gpu/index.ts';
import { loadRun, replay } from '../helpers/train-replay.ts';

export interface TrainingReport {
  mode: string;
  run: string;
  /** The backend's "[spt-seg] backend gpu: ..." line. */
  description: string;
  /** Unmasked WebGL renderer, or WebGPU adapter info, asked by the page itself. */
  renderer: string;
  /** gpu.js kernel class of every compiled kernel (e.g. WebGL2Kernel), deduplicated. */
  kernelClasses: string[];
  compiles: number;
  fallbacks: string[];
  losses: number[];
  expected: number[];
  relErrors: number[];
  /** Live device buffers before loading, after each step, and after the run was disposed. */
  liveBefore: number;
  live: number[];
  liveAfter: number;
  ms: number;
}

async function sptTrainingReplay(mode: GpuMode, runName: string, steps: number): Promise<TrainingReport> {
  const t0 = performance.now();
  const gpu = createGpuBackend(mode);
  const description = await gpu.description;
  const liveDevice = async (): Promise<number> => {
    await gpu.flush();
    return gpu.runner.stats.liveDevice;
  };
  const response = await fetch(`/fixtures/train/${runName}.safetensors`);
  if (!response.ok) throw new Error(`fixture ${runName}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  setBackend(gpu);
  const liveBefore = await liveDevice();
  const live: number[] = [];
  const r = await replay(loadRun(runName, bytes), { steps, afterStep: async () => { live.push(await liveDevice()); } });
  const report: TrainingReport = {
    mode, run: runName, description, renderer: await pageRenderer(mode),
    kernelClasses: [...new Set([...gpu.runner.kernels.values()].map((k) => k.kernel.constructor.name))],
    compiles: gpu.runner.stats.compiles, fallbacks: [...gpu.runner.fallbacks],
    losses: r.losses, expected: r.expected, relErrors: r.relErrors,
    liveBefore, live, liveAfter: await liveDevice(), ms: performance.now() - t0,
  };
  await gpu.destroy();
  return report;
}

Object.assign(globalThis, { sptTrainingReplay, sptUnavailable });
