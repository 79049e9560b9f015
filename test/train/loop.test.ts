// The training loop: exact resume (in process and after SIGKILL), atomic checkpoints under kills and a
// full disk, a NaN loss that stops the run before the update, Ctrl-C that saves, and accumulation.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint, child, tensorMap } from '../../train/checkpoint.ts';
import { CHECKPOINT_FILE, LOG_FILE, NonFiniteLossError, runTraining, type StepRecord } from '../../train/loop.ts';
import { tensor } from '../../engine/index.ts';
import { makeTinyTask } from './fixtures/tiny-task.ts';

const RUNNER = new URL('./fixtures/tiny-run.ts', import.meta.url).pathname;
const tmp = (): string => mkdtempSync(join(tmpdir(), 'spt-loop-'));

function weights(task: ReturnType<typeof makeTinyTask>): number[][] {
  return task.model.parameters().map((p) => p.toArray());
}

function logOf(dir: string): StepRecord[] {
  return readFileSync(join(dir, LOG_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepRecord);
}

t.test('a run stopped at step 7 and resumed matches an uninterrupted run bit for bit', async (t) => {
  const full = makeTinyTask({ totalSteps: 15 });
  const a = await runTraining(full, { steps: 15, label: null, clipNorm: 1 });

  const dir = tmp();
  const first = makeTinyTask({ totalSteps: 15 });
  await runTraining(first, { steps: 7, outDir: dir, label: null, clipNorm: 1 });
  const second = makeTinyTask({ totalSteps: 15 }); // fresh objects, fresh RNG states
  const b = await runTraining(second, { steps: 15, outDir: dir, resume: 'auto', label: null, clipNorm: 1 });

  t.equal(b.records[0].step, 8, 'the resumed run starts after the checkpoint');
  t.same(b.records.map((r) => r.loss.total), a.records.slice(7).map((r) => r.loss.total), 'same per-step losses');
  t.same(weights(second), weights(full), 'same final weights');
  t.same(logOf(dir).map((r) => r.loss.total), a.records.map((r) => r.loss.total), 'the log holds the whole run');
  t.not(a.records[0].loss.total, a.records[14].loss.total, 'the loss moves (the test could fail)');
  rmSync(dir, { recursive: true });
});

t.test('gradient accumulation of 2 micro-batches averages their losses', async (t) => {
  const task = makeTinyTask();
  const r = await runTraining(task, { steps: 2, accumulate: 2, label: null });
  t.equal((task.data as unknown as { count: number }).count, 4, 'two micro-batches per step');
  t.ok(Number.isFinite(r.records[1].loss.total));
});

t.test('a NaN loss stops before the update and keeps the last good checkpoint', async (t) => {
  const dir = tmp();
  const task = makeTinyTask({ nanFrom: 4 });
  const before: number[][] = [];
  const err = await runTraining(task, {
    steps: 10, outDir: dir, checkpointEvery: 2, label: null,
    onStep: (r) => { if (r.step === 4) before.push(...weights(task)); },
  }).catch((e: unknown) => e);
  t.ok(err instanceof NonFiniteLossError, 'a NonFiniteLossError');
  t.match((err as Error).message, /not finite at step 5/);
  t.match((err as Error).message, new RegExp(CHECKPOINT_FILE));
  t.same(weights(task), before, 'the weights are those after step 4: the NaN step did not update them');
  const state = await loadCheckpoint(join(dir, CHECKPOINT_FILE));
  t.equal(child(state, 'step'), 4, 'the checkpoint kept is step 4');
  rmSync(dir, { recursive: true });
});

t.test('checkpoints reject trees they cannot hold and files that are not checkpoints', async (t) => {
  const dir = tmp();
  await t.rejects(saveCheckpoint(join(dir, 'x.safetensors'), { bad: new Float32Array(2) as unknown as number }), /Float32Array/);
  const { saveSafetensors } = await import('../../engine/io/files.ts');
  await saveSafetensors(join(dir, 'w.safetensors'), new Map([['a', tensor([1, 2])]]));
  await t.rejects(loadCheckpoint(join(dir, 'w.safetensors')), /w\.safetensors: not an spt-seg training checkpoint/);
  const round = { a: tensor([1.5, NaN]), n: [NaN, Infinity, -0.25], s: 'x', nested: { b: tensor([[3]], undefined, { dtype: 'int32' }) } };
  await saveCheckpoint(join(dir, 'c.safetensors'), round);
  const back = await loadCheckpoint(join(dir, 'c.safetensors')) as typeof round;
  t.same(back.n, [NaN, Infinity, -0.25]);
  t.same(back.a.toArray(), [1.5, NaN]);
  t.equal(tensorMap(child(back, 'nested')).get('b')!.dtype, 'int32');
  rmSync(dir, { recursive: true });
});

t.test('a full disk fails the save cleanly and leaves the previous checkpoint loadable', async (t) => {
  const dir = tmp();
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
  if (mount.status !== 0) {
    t.plan(0, `skipped: cannot mount a tiny tmpfs here (${String(mount.stderr).trim()}); run as root to check a full disk`);
    return;
  }
  try {
    // ~20 KB checkpoints fit; a task with a 200k-float ballast (800 KB) does not.
    const small = makeTinyTask();
    await runTraining(small, { steps: 3, outDir: dir, label: null });
    const big = makeTinyTask({ ballastFloats: 200_000 });
    await t.rejects(runTraining(big, { steps: 4, outDir: dir, label: null }), /ENOSPC|no space/i, 'the save fails with the disk error');
    const state = await loadCheckpoint(join(dir, CHECKPOINT_FILE));
    t.equal(child(state, 'step'), 3, 'the previous checkpoint is intact');
    t.same(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left behind');
  } finally {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true });
  }
});

/** Start the child runner; resolve with its exit once it ends (or is killed). */
function runChild(dir: string, steps: number, every: number, ballast = 0) {
  const proc = spawn(process.execPath, ['--import', 'tsx', RUNNER, dir, String(steps), String(every), String(ballast)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => { out += String(d); });
  proc.stderr.on('data', (d) => { out += String(d); });
  const exited = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
  return { proc, exited };
}

async function waitForStep(dir: string, step: number, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (existsSync(join(dir, LOG_FILE)) && readFileSync(join(dir, LOG_FILE), 'utf8').split('\n').length > step) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the child did not reach step ${step} in ${timeoutMs} ms`);
}

const STEPS = 30;
let reference: number[] = [];

t.test('SIGKILL at several steps, then resume: the same per-step losses as an uninterrupted run', async (t) => {
  const refDir = tmp();
  const ref = await runChild(refDir, STEPS, 1).exited;
  t.equal(ref.code, 0, ref.out);
  reference = logOf(refDir).map((r) => r.loss.total);
  t.equal(reference.length, STEPS);
  rmSync(refDir, { recursive: true });

  for (const killAt of [3, 11, 22]) {
    const dir = tmp();
    const run = runChild(dir, STEPS, 1);
    await waitForStep(dir, killAt);
    run.proc.kill('SIGKILL');
    const killed = await run.exited;
    t.equal(killed.signal, 'SIGKILL', `killed near step ${killAt}`);
    const resumed = await runChild(dir, STEPS, 1).exited;
    t.equal(resumed.code, 0, resumed.out);
    t.same(logOf(dir).map((r) => r.loss.total), reference, `killed near step ${killAt}: identical losses after resume`);
    rmSync(dir, { recursive: true });
  }
});

t.test('SIGKILL during checkpoint writes always leaves a loadable checkpoint', async (t) => {
  // A 1M-float ballast makes each save write ~4 MB, so kills land inside writes as well as between them.
  for (const delayMs of [900, 1400, 2100]) {
    const dir = tmp();
    const run = runChild(dir, 400, 1, 1_000_000);
    await waitForStep(dir, 1);
    await new Promise((r) => setTimeout(r, delayMs));
    run.proc.kill('SIGKILL');
    await run.exited;
    const path = join(dir, CHECKPOINT_FILE);
    const state = await loadCheckpoint(path);
    const step = child(state, 'step') as number;
    t.ok(step >= 1, `after a kill at +${delayMs} ms the checkpoint of step ${step} loads`);
    t.equal(tensorMap(child(state, 'model')).get('ballast')!.size, 1_000_000, 'and it is whole');
    const partial = readdirSync(dir).filter((f) => f.endsWith('.tmp')).length;
    t.comment(partial > 0 ? 'this kill landed inside a write (its temp file is left)' : 'this kill landed between writes');
    rmSync(dir, { recursive: true });
  }
});

t.test('SIGINT saves a checkpoint and exits; resuming finishes the run with the same losses', async (t) => {
  const dir = tmp();
  mkdirSync(dir, { recursive: true });
  const run = runChild(dir, STEPS, 0); // no periodic checkpoints: only the one Ctrl-C writes
  await waitForStep(dir, 5);
  run.proc.kill('SIGINT');
  const stopped = await run.exited;
  t.equal(stopped.code, 0, stopped.out);
  t.match(stopped.out, /interrupted \d+/);
  const resumed = await runChild(dir, STEPS, 0).exited;
  t.match(resumed.out, new RegExp(`done ${STEPS}`));
  t.same(logOf(dir).map((r) => r.loss.total), reference, 'identical losses');
  rmSync(dir, { recursive: true });
});
