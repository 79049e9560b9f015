/**
 * Chapter 4 example: a tiny CLIP with random weights, taken apart step by step.
 * Run: `npx tsx examples/04-vit-clip.ts`.
 *
 * Does: cut an image into patches (`PatchConv` in model/vit.ts), build the token sequence
 * (`embed`), compute one head's attention of the CLS token over the patch grid from the first
 * block's packed q/k projection (as `MultiheadAttention.forward` in model/blocks.ts does), tokenize
 * a sentence (model/tokenizer.ts), and encode images and texts into one space (model/clip.ts).
 * Does not: load real weights (random weights give meaningless similarities; `loadClip` in
 * model/weights.ts reads OpenAI's checkpoint, see docs/clip.md), or preprocess real pixels.
 *
 * Glossary: B images, T texts, N patches, D width, H heads, d = D / H, E embedding width.
 */
import { manualSeed, noGrad, randn, setBackend, softmax } from '../engine/index.ts';
import { CLIP, l2normalize, tokenize, type CLIPConfig } from '../model/index.ts';
import { defaultTokenizer } from '../model/tokenizer.ts';

setBackend('cpu');
manualSeed(0);

/** CLIP ViT-B/16's shape, shrunk: 32x32 images, 8x8 patches (a 4x4 grid), 2 blocks of width 32. */
const config: CLIPConfig = {
  embedDim: 16,
  vision: { imageSize: 32, patchSize: 8, width: 32, layers: 2, heads: 4, outputDim: 16 },
  text: { contextLength: 77, vocabSize: 49408, width: 32, layers: 2, heads: 4, outputDim: 16 },
};
const clip = new CLIP(config);
console.log(`tiny CLIP: ${clip.parameters().reduce((n, p) => n + p.size, 0)} parameters`);

noGrad(() => {
  const images = randn([2, 3, 32, 32]); // [B, 3, H, W], as if CLIP-normalised

  // 1. Patches: a stride-P conv is one linear over flattened P x P x 3 patches.
  const { tokens: patches, gridH, gridW } = clip.visual.conv1.forward(images); // [B, N, D]
  console.log(`patches: image [${images.shape}] -> grid ${gridH}x${gridW} -> tokens [${patches.shape}]`);

  // 2. The sequence entering block 0: ln_pre([CLS, patches] + positional embedding).
  const { tokens } = clip.visual.embed(images); // [B, 1 + N, D]
  console.log(`sequence with CLS: [${tokens.shape}]`);

  // 3. Attention of block 0, head 0: softmax(q kᵀ / √d) from the packed in_proj (q rows first).
  const block = clip.visual.transformer.resblocks.at(0);
  const [, L, D] = tokens.shape;
  const H = block.attn.numHeads, d = D / H;
  const x = block.ln_1.forward(tokens); // [B, L, D]
  const qkv = x.matmul(block.attn.in_proj_weight.transpose(0, 1)).add(block.attn.in_proj_bias); // [B, L, 3D]
  const q = qkv.slice(2, 0, d); // [B, L, d], head 0 of q
  const k = qkv.slice(2, D, D + d); // [B, L, d], head 0 of k
  const attn = softmax(q.matmul(k.transpose(1, 2)).mul(1 / Math.sqrt(d)), -1); // [B, L, L]
  const cls = attn.slice(0, 0, 1).slice(1, 0, 1).reshape([L]).toArray(); // image 0, query = CLS
  console.log(`attention of CLS (image 0, block 0, head 0): to itself ${cls[0].toFixed(3)}, to the ${gridH}x${gridW} patches:`);
  for (let i = 0; i < gridH; i++) {
    console.log('  ' + cls.slice(1 + i * gridW, 1 + (i + 1) * gridW).map((v) => v.toFixed(3)).join(' '));
  }
  console.log(`attention row sums to ${cls.reduce((s, v) => s + v, 0).toFixed(6)}`);

  // 4. The tokenizer: byte-level BPE, wrapped in <|startoftext|> ... <|endoftext|>, padded to 77.
  const sentence = 'A photo of a cat, sitting on the windowsill.';
  const ids = tokenize(sentence)[0];
  const used = ids.slice(0, ids.indexOf(49407) + 1);
  const tok = defaultTokenizer();
  console.log(`tokenize("${sentence}"): ${used.length} of ${ids.length} ids used`);
  console.log(`  ids: ${used.join(' ')}`);
  console.log(`  pieces: ${used.slice(1, -1).map((id) => tok.decode([id]).trim()).join(' | ')}`);

  // 5. Image and text features in one space; cosine similarity is a dot product of unit vectors.
  const imageFeatures = l2normalize(clip.encodeImage(images)); // [B, E]
  const texts = tokenize(['a photo of a cat.', 'a photo of a dog.', 'a photo of a tree.']);
  const textFeatures = l2normalize(clip.encodeText(texts)); // [T, E]
  console.log(`image features [${imageFeatures.shape}], text features [${textFeatures.shape}]`);
  const sim = imageFeatures.matmul(textFeatures.transpose(0, 1)).toArray(); // [B, T]
  console.log(`cosine similarity image 0 vs texts: ${sim.slice(0, 3).map((v) => v.toFixed(3)).join(' ')}`);
  const norms = imageFeatures.mul(imageFeatures).sum(-1).sqrt().toArray();
  console.log(`feature norms after l2normalize: ${norms.map((v) => v.toFixed(6)).join(' ')}`);
});
