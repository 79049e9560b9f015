// Full-size CLIP ViT-B/16 (random weights, built here): the checkpoint round trip works at the real
// shapes, build_model's rules infer the real config (heads = width / 64), and the towers run.
//
// Not a 224x224 forward on the reference CPU backend: one ViT-B/16 forward at 224 takes ~85-100 s on
// the 2-core test machine (its transposed-B matmul, used by every Linear, runs at ~0.35 GFLOP/s). We
// run the image tower at 32x32 there instead: a 2x2 grid, so the 14x14 positional table is bilinearly
// resized, the path SPT-SEG uses at 512x512. When the wasm backend loads, the 224x224 forward runs on
// it (~1-2 s), after checking that it agrees with the reference at 32x32. bench/model/clip.bench.ts
// times both.
import t from 'tap';
import { manualSeed, noGrad, randn, setBackend, type Tensor } from '../../engine/index.ts';
import { createWasmBackend, wasmUnavailableReason } from '../../kernels/wasm/index.ts';
import { serializeSafetensors } from '../../engine/io/safetensors.ts';
import {
  CLIP, CLIP_VIT_B_16, clipFromCheckpoint, readClipCheckpoint, serializeClip, tokenize, VisionTransformer, VIT_B_16,
} from '../../model/index.ts';
import { relErr } from './fixtures.ts';

let visualWeights: Map<string, Tensor> | null = null;
let small: { image: Tensor; features: Tensor } | null = null;

t.test('ViT-B/16: save, infer config, load, run', async (tt) => {
  manualSeed(0);
  const original = new CLIP(CLIP_VIT_B_16);
  tt.equal(original.visual.numParameters(), 86_192_640, 'image tower parameters (OpenAI ViT-B/16: 86.2 M)');
  tt.equal(original.numParameters(), 149_620_737, 'CLIP ViT-B/16 parameters');

  // An OpenAI-layout file without our metadata, so that the config must be inferred from shapes.
  const bytes = serializeClip(original);
  const ckpt = readClipCheckpoint(bytes, 'b16.safetensors');
  tt.same(ckpt.config, CLIP_VIT_B_16, 'config read back from __metadata__');
  const bare = serializeSafetensors(ckpt.tensors);
  const inferred = readClipCheckpoint(bare, 'b16-bare.safetensors');
  tt.same(inferred.config, CLIP_VIT_B_16, 'config inferred from shapes: 12 / 8 heads from width / 64');

  const loaded = clipFromCheckpoint(inferred, 'b16-bare.safetensors');
  const a = original.stateDict(), b = loaded.stateDict();
  for (const key of ['visual.conv1.weight', 'visual.transformer.resblocks.11.mlp.c_proj.weight', 'token_embedding.weight', 'logit_scale']) {
    const x = a.get(key)!.data(), y = b.get(key)!.data();
    tt.ok(x.length === y.length && x.every((v, i) => v === y[i]), `${key} round-trips exactly`);
  }
  tt.equal(serializeClip(loaded).length, bytes.length, 'converting again gives a file of the same size');
  inferred.tensors.clear(); // free the parsed copies before running the model

  noGrad(() => {
    const input = randn([1, 3, 32, 32]);
    const image = loaded.encodeImage(input); // grid 2x2 from the 14x14 table
    tt.same(image.shape, [1, 512]);
    tt.ok(image.toArray().every(Number.isFinite), 'image features are finite');
    small = { image: input, features: image };
    const tokens = loaded.visual.forwardTokens(randn([1, 3, 32, 48])); // grid 2x3
    tt.same(tokens.shape, [1, 1 + 6, 512], 'dense tokens: CLS + 2x3 grid');
    const text = loaded.encodeText(tokenize(['a photo of a cat.']));
    tt.same(text.shape, [1, 512]);
    tt.ok(text.toArray().every(Number.isFinite), 'text features are finite');
  });
  visualWeights = loaded.visual.stateDict();
});

const wasm = createWasmBackend();
t.test('ViT-B/16 at 224x224 on the wasm backend', { skip: wasm ? false : `wasm backend unavailable: ${wasmUnavailableReason()}` }, async (tt) => {
  setBackend(wasm!);
  try {
    const vit = new VisionTransformer(VIT_B_16); // tensors made now live on the wasm backend
    vit.loadStateDict(visualWeights!);
    noGrad(() => {
      const err = relErr(vit.forward(small!.image), small!.features);
      tt.ok(err < 1e-5, `agrees with the reference backend at 32x32: error ${err.toExponential(2)}`);
      const out = vit.forward(randn([1, 3, 224, 224]));
      tt.same(out.shape, [1, 512]);
      tt.ok(out.toArray().every(Number.isFinite), 'finite at 224x224');
    });
  } finally {
    setBackend('cpu');
  }
});
