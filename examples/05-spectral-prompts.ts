/**
 * Chapter 5 example: a tiny SPT image encoder with VPT prompts and the spectral prompt, taken apart.
 * Run: `npx tsx examples/05-spectral-prompts.ts`.
 *
 * Does: build `SptVisionTransformer` (model/spt.ts) with 3 blocks, T = 2 prompt tokens, 2 deep
 * prompt sets and a 4x4 spectral grid; print the sequence each block sees (CLS, prompts, patches),
 * the size of the spectral prompt next to the patch tokens it is added to, what the official
 * freezing keeps trainable (`trainableParameters` / `freeze`, model/segmenter.ts) group by group,
 * and two ablation facts: a zero spectral filter gives exactly the encoder without one, and
 * VPT-shallow (deepLayers = 0) keeps the same prompts through every block.
 * Does not: load CLIP weights or train (chapter 8); random weights make the features meaningless.
 *
 * Glossary: B batch (1), T prompt tokens (2), N = gh·gw patch tokens (16), D width (32), E joint width (16).
 */
import { manualSeed, noGrad, randn, setBackend, zeros, type Tensor } from '../engine/index.ts';
import { freeze, SptSeg, SptVisionTransformer, trainableParameters, type SptConfig, type SptSegConfig } from '../model/index.ts';

setBackend('cpu');
manualSeed(0);

const encoder: SptConfig = {
  vision: { imageSize: 32, patchSize: 8, width: 32, layers: 3, heads: 2, outputDim: 16 },
  numTokens: 2, deepLayers: 2, spectralGrid: [4, 4],
};
const images = randn([1, 3, 32, 32]); // [B, 3, H, W]

/** Per block of `vit` for `images`: the sequence length entering it, and where its prompt tokens come from. */
function blockInputs(vit: SptVisionTransformer): string {
  const seen: { x: Tensor; y: Tensor }[] = [];
  for (const block of vit.transformer.resblocks) {
    const original = block.forward.bind(block);
    block.forward = (x: Tensor, mask?: Tensor | null) => { const y = original(x, mask ?? null); seen.push({ x, y }); return y; };
  }
  noGrad(() => vit.features(images));
  const T = vit.spt.numTokens;
  return seen.map(({ x }, i) => {
    if (x.shape[1] === 1 + 16) return `${x.shape[1]} (no prompts)`;
    if (i === 0) return `${x.shape[1]} (shallow prompts)`;
    const prev = seen[i - 1].y.slice(1, 1, 1 + T).toArray(), now = x.slice(1, 1, 1 + T).toArray(); // [B, T, D]
    return `${x.shape[1]} (${prev.every((v, j) => v === now[j]) ? 'prompts carried from block ' + (i - 1) : 'new deep prompts'})`;
  }).join(', ');
}

const vit = new SptVisionTransformer(encoder).eval(); // eval: prompt dropout off
console.log(`SPT encoder: ${encoder.vision.layers} blocks, width ${encoder.vision.width}, T = ${encoder.numTokens} prompt tokens, grid 4x4 (N = 16)`);
console.log(`blocks see (1 CLS + T prompts + N patches): ${blockInputs(vit)}`);

// The spectral prompt of block 0: irfft2(rfft2(patches ⊙ CLS) ⊙ complex_weight), per channel.
noGrad(() => {
  const { tokens } = vit.embed(images); // [B, 1 + N, D] (without the CLS quirk; enough for a size)
  const cls = tokens.slice(1, 0, 1), patches = tokens.slice(1, 1); // [B, 1, D], [B, N, D]
  const p = vit.spectralPrompt(patches, cls, 4, 4); // [B, N, D]
  const rms = (t: Tensor) => Math.sqrt(t.mul(t).mean().item());
  console.log(`complex_weight [${vit.complex_weight!.shape.join(', ')}]: spectral prompt [${p.shape.join(', ')}], rms ${rms(p).toFixed(4)} vs patch tokens rms ${rms(patches).toFixed(4)}`);
});

// What trains: the prompts, prompt_proj / prompt_norm, the spectral filter and the whole decoder.
const config: SptSegConfig = { encoder, decoder: { embedDim: 16, width: 16, layers: 2, ffn: 32 } };
const model = new SptSeg(config);
const count = (ps: readonly [string, Tensor][]) => ps.reduce((n, [, p]) => n + p.size, 0);
const trainable = trainableParameters(model);
const group = (test: (name: string) => boolean) => count(trainable.filter(([n]) => test(n)));
console.log(`SptSeg parameters: ${count(model.namedParameters())} in all, ${count(trainable)} trainable:`);
console.log(`  prompt_embeddings ${group((n) => n === 'backbone.prompt_embeddings')}, deep_prompt_embeddings ${group((n) => n.includes('deep_prompt'))}, ` +
  `prompt_proj ${group((n) => n.includes('prompt_proj'))}, prompt_norm ${group((n) => n.includes('prompt_norm'))}`);
console.log(`  complex_weight ${group((n) => n === 'backbone.complex_weight')}, decode_head ${group((n) => n.startsWith('decode_head.'))}`);
const kept = freeze(model);
const frozen = model.parameters().filter((p) => !p.requiresGrad).length;
console.log(`freeze: ${kept.length} tensors keep requiresGrad, ${frozen} frozen (CLIP's own weights)`);
console.log(`without the spectral filter (trainSpectral: false): ${count(trainableParameters(model, { trainSpectral: false }))} trainable`);

// Ablation 1: with complex_weight = 0 the spectral prompt is 0, so the encoder equals one built
// without a spectral filter (spectralGrid: null) that has the same other weights.
noGrad(() => {
  const plain = new SptVisionTransformer({ ...encoder, spectralGrid: null }).eval();
  const state = vit.stateDict();
  state.set('complex_weight', zeros(vit.complex_weight!.shape));
  vit.loadStateDict(state);
  plain.loadStateDict(state, { strict: false });
  const a = vit.features(images).dense.toArray(), b = plain.features(images).dense.toArray();
  console.log(`zero filter vs no spectral prompt: max |dense difference| ${a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)}`);
});

// Ablation 2: VPT-shallow. No deep sets: the block-0 prompts travel on through every block.
const shallow = new SptVisionTransformer({ ...encoder, deepLayers: 0 }).eval();
console.log(`VPT-shallow (deepLayers 0): ${blockInputs(shallow)}`);
// Fewer deep sets than blocks − 1: the blocks past the last set run without prompts (official).
console.log(`deepLayers 1 of 2: ${blockInputs(new SptVisionTransformer({ ...encoder, deepLayers: 1 }).eval())}`);
