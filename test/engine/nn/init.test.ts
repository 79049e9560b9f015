/**
 * Initialisers and the skip-init construction mode (engine/nn/init.ts): PyTorch's default init
 * outside it; zeros, no random draws and an untouched default generator inside it; and loadClip /
 * clipFromBytes building under it (the checkpoint's weights, no draws).
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { manualSeed, randn } from '../../../engine/index.ts';
import { parseSafetensors } from '../../../engine/io/safetensors.ts';
import { Embedding, isInitSkipped, LayerNorm, Linear, skipInit } from '../../../engine/nn/index.ts';
import { clipFromBytes } from '../../../model/index.ts';

const CLIP_FILE = new URL('../../fixtures/clip/openai.safetensors', import.meta.url);

/** The next numbers of the default generator after `fn` ran from seed 0. */
function drawsAfter(fn: () => unknown): number[] {
  manualSeed(0);
  fn();
  return randn([4]).toArray();
}

t.test('outside skipInit: PyTorch default init (Linear U(±1/√in), Embedding N(0, 1))', (t) => {
  const lin = new Linear(16, 8);
  const w = lin.weight.toArray(), b = lin.bias!.toArray();
  t.ok(w.every((v) => Math.abs(v) <= 0.25) && w.some((v) => v !== 0), 'weight in [-1/4, 1/4], random');
  t.ok(b.every((v) => Math.abs(v) <= 0.25) && b.some((v) => v !== 0), 'bias too');
  const e = new Embedding(50, 20).weight.toArray();
  t.ok(e.some((v) => Math.abs(v) > 1), 'embedding: unit normal');
  t.end();
});

t.test('inside skipInit: zero-filled parameters of the right shape, no draws', (t) => {
  const untouched = drawsAfter(() => {});
  let lin!: Linear, emb!: Embedding, ln!: LayerNorm;
  const after = drawsAfter(() => skipInit(() => {
    t.equal(isInitSkipped(), true);
    lin = new Linear(16, 8);
    emb = new Embedding(50, 20);
    ln = new LayerNorm(8);
  }));
  t.same(after, untouched, 'the default generator was not advanced');
  t.equal(isInitSkipped(), false, 'the mode ends with the call');
  t.same(lin.weight.shape, [8, 16]);
  t.equal(lin.weight.dtype, 'float32');
  t.equal(lin.weight.requiresGrad, true);
  t.ok(lin.weight.toArray().every((v) => v === 0));
  t.same(emb.weight.shape, [50, 20]);
  t.same(ln.weight!.toArray(), Array(8).fill(1), 'deterministic init (LayerNorm ones) as usual');
  t.not(drawsAfter(() => new Linear(16, 8))[0], untouched[0], 'outside it, construction draws again');
  t.end();
});

t.test('skipInit: nests, ends on a throw, refuses an async build', async (t) => {
  skipInit(() => skipInit(() => t.equal(isInitSkipped(), true)));
  t.equal(isInitSkipped(), false);
  t.throws(() => skipInit(() => { throw new Error('boom'); }), /boom/);
  t.equal(isInitSkipped(), false, 'ended after the throw');
  t.throws(() => skipInit(async () => new Linear(2, 2)), /must be synchronous/);
  t.equal(isInitSkipped(), false);
});

t.test('clipFromBytes (and so loadClip) builds under skipInit: no draws, the file\'s weights', (t) => {
  const bytes = new Uint8Array(readFileSync(CLIP_FILE));
  const untouched = drawsAfter(() => {});
  let model!: ReturnType<typeof clipFromBytes>;
  t.same(drawsAfter(() => { model = clipFromBytes(bytes, 'openai.safetensors'); }), untouched);
  const { tensors } = parseSafetensors(bytes, 'openai.safetensors');
  const key = 'visual.transformer.resblocks.0.mlp.c_fc.weight';
  const loaded = model.stateDict().get(key)!;
  t.same(Array.from(loaded.data()), Array.from(tensors.get(key)!.data as Float32Array), `${key} came from the file`);
  t.end();
});
